//! Read-only lookup tables for the dispatch: on the heap when small, in a
//! huge-page mapping when large.

use crate::ram::host::HostMapping;

/// Size of a transparent huge page on the hosts we run on.
const HUGE_PAGE: usize = 2 << 20;

/// A table of `Copy` values copied into its own mapping, aligned to and
/// advised for transparent huge pages. Large lookup tables (dispatch nodes,
/// sections) are read at random; with 4 KiB pages every lookup may miss the
/// host TLB, with 2 MiB pages a few entries cover the whole table.
pub(crate) struct HugeTable<T: Copy> {
    _mapping: HostMapping,
    ptr: *const T,
    len: usize,
}

impl<T: Copy> HugeTable<T> {
    /// Copy `items` into a new table, or `None` if the mapping fails.
    fn new(items: &[T]) -> Option<Self> {
        let bytes = std::mem::size_of_val(items);
        let span = bytes.checked_next_multiple_of(HUGE_PAGE)?;
        let mapping =
            HostMapping::new("table", u64::try_from(span.checked_add(HUGE_PAGE)?).ok()?).ok()?;
        let base = mapping.ptr() as usize;
        let offset = base.next_multiple_of(HUGE_PAGE) - base;
        mapping.advise_huge_pages(offset, span);
        // SAFETY: `offset + span <= span + HUGE_PAGE`, the mapping's length, so
        // the written range lies inside our own fresh mapping, which is
        // aligned for `T` (2 MiB alignment) and not yet shared with anyone.
        let ptr = unsafe {
            let start = mapping.ptr().add(offset);
            std::ptr::copy_nonoverlapping(items.as_ptr(), start.cast::<T>(), items.len());
            start.cast::<T>().cast_const()
        };
        Some(HugeTable {
            _mapping: mapping,
            ptr,
            len: items.len(),
        })
    }
}

impl<T: Copy> std::ops::Deref for HugeTable<T> {
    type Target = [T];
    fn deref(&self) -> &[T] {
        // SAFETY: `ptr` points at `len` initialised values inside the mapping,
        // which lives as long as `self` and is never written after `new`.
        unsafe { std::slice::from_raw_parts(self.ptr, self.len) }
    }
}

impl<T: Copy> std::fmt::Debug for HugeTable<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "HugeTable({} entries)", self.len)
    }
}

/// A read-only lookup table: on the heap when small, in a [`HugeTable`] when
/// large enough for huge pages to matter.
#[derive(Debug)]
pub(crate) enum Table<T: Copy> {
    Heap(Vec<T>),
    Huge(HugeTable<T>),
}

impl<T: Copy> Table<T> {
    /// Tables smaller than this stay on the heap.
    const HUGE_THRESHOLD: usize = 1 << 20;

    pub(crate) fn from_vec(items: Vec<T>) -> Self {
        if std::mem::size_of_val(items.as_slice()) >= Self::HUGE_THRESHOLD
            && let Some(t) = HugeTable::new(&items)
        {
            return Table::Huge(t);
        }
        Table::Heap(items)
    }
}

impl<T: Copy> std::ops::Deref for Table<T> {
    type Target = [T];
    #[inline]
    fn deref(&self) -> &[T] {
        match self {
            Table::Heap(v) => v,
            Table::Huge(t) => t,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tables_keep_their_contents_heap_or_huge() {
        let small = Table::from_vec(vec![1u32, 2, 3]);
        assert!(matches!(small, Table::Heap(_)));
        assert_eq!(&small[..], &[1, 2, 3]);
        let items: Vec<u64> = (0..300_000).collect();
        let big = Table::from_vec(items.clone());
        assert!(matches!(big, Table::Huge(_)));
        assert_eq!(&big[..], &items[..]);
        assert_eq!(big.as_ptr() as usize % HUGE_PAGE, 0);
    }
}
