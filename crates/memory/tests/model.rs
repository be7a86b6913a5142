//! Property tests: the flat view and the dispatch lookup against a naive
//! reference model that walks the tree, on random topologies.

use std::rc::Rc;

use ferrite_memory::*;
use proptest::prelude::*;

struct Nop;
impl RegionOps for Nop {
    fn read(&self, _: u64, _: u32, _: MemTxAttrs) -> MemTxResult<u64> {
        Ok(0)
    }
    fn write(&self, _: u64, _: u64, _: u32, _: MemTxAttrs) -> MemTxResult<()> {
        Ok(())
    }
}

#[derive(Clone, Copy, Debug, PartialEq)]
enum Kind {
    Container,
    Ram,
    Rom,
    Io,
    Alias { target: usize, offset: u64 },
}

#[derive(Clone, Debug)]
struct Node {
    id: RegionId,
    kind: Kind,
    size: u128,
    enabled: bool,
    readonly: bool,
    parent: Option<usize>,
    addr: u64,
    priority: i32,
    seq: u64,
}

/// The model: what the test believes the tree is.
struct Spec {
    nodes: Vec<Node>,
    seq: u64,
}

impl Spec {
    fn children(&self, p: usize) -> Vec<usize> {
        let mut c: Vec<usize> = (0..self.nodes.len())
            .filter(|&i| self.nodes[i].parent == Some(p))
            .collect();
        c.sort_by_key(|&i| {
            (
                std::cmp::Reverse(self.nodes[i].priority),
                std::cmp::Reverse(self.nodes[i].seq),
            )
        });
        c
    }

    /// Which terminal region and offset serve `off` inside node `n`, by walking.
    fn resolve(&self, n: usize, off: u128, ro: bool, depth: u32) -> Option<(RegionId, u64, bool)> {
        let node = &self.nodes[n];
        if !node.enabled || off >= node.size || depth > 64 {
            return None;
        }
        let ro = ro || node.readonly;
        if let Kind::Alias { target, offset } = node.kind {
            return self.resolve(target, off + u128::from(offset), ro, depth + 1);
        }
        for c in self.children(n) {
            let ch = &self.nodes[c];
            let a = u128::from(ch.addr);
            if ch.enabled
                && off >= a
                && off < a + ch.size
                && let Some(hit) = self.resolve(c, off - a, ro, depth + 1)
            {
                return Some(hit);
            }
        }
        match node.kind {
            Kind::Container | Kind::Alias { .. } => None,
            Kind::Rom => Some((node.id, off as u64, true)),
            Kind::Ram | Kind::Io => Some((node.id, off as u64, ro)),
        }
    }

    /// Whether `to` is reachable from `from` via children and alias targets.
    fn reaches(&self, from: usize, to: usize) -> bool {
        let mut stack = vec![from];
        let mut seen = vec![false; self.nodes.len()];
        while let Some(n) = stack.pop() {
            if n == to {
                return true;
            }
            if std::mem::replace(&mut seen[n], true) {
                continue;
            }
            stack.extend((0..self.nodes.len()).filter(|&i| self.nodes[i].parent == Some(n)));
            if let Kind::Alias { target, .. } = self.nodes[n].kind {
                stack.push(target);
            }
        }
        false
    }
}

/// A tiny deterministic generator driven by the proptest seed.
struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn below(&mut self, n: u64) -> u64 {
        if n == 0 { 0 } else { self.next() % n }
    }
    fn chance(&mut self, percent: u64) -> bool {
        self.below(100) < percent
    }
}

const TOP: u128 = 1 << 64;

fn random_size(rng: &mut Rng) -> u64 {
    match rng.below(4) {
        0 => (rng.below(8) + 1) * PAGE_SIZE,
        1 => rng.below(0x3000) + 1,
        2 => (rng.below(64) + 1) * 0x100,
        _ => rng.below(0x40) + 1,
    }
}

fn build(seed: u64) -> (MemorySystem, AddressSpaceId, Spec) {
    let mut rng = Rng(seed | 1);
    let mut m = MemorySystem::new();
    let root_size = if rng.chance(70) {
        RegionSize::Max
    } else {
        RegionSize::Bytes(0x20_0000)
    };
    let root = m.new_container("root", root_size);
    let mut spec = Spec {
        nodes: vec![Node {
            id: root,
            kind: Kind::Container,
            size: root_size.get(),
            enabled: true,
            readonly: false,
            parent: None,
            addr: 0,
            priority: 0,
            seq: 0,
        }],
        seq: 1,
    };
    let count = 4 + rng.below(14) as usize;
    for i in 0..count {
        let name = format!("r{i}");
        let (id, kind, size) = match rng.below(10) {
            0..=2 => {
                let size = u128::from(random_size(&mut rng) * 4 + 0x1000);
                (
                    m.new_container(&name, RegionSize::Bytes(size as u64)),
                    Kind::Container,
                    size,
                )
            }
            3..=4 => {
                let s = random_size(&mut rng);
                (m.new_ram(&name, s).unwrap(), Kind::Ram, u128::from(s))
            }
            5 => {
                let s = random_size(&mut rng);
                (m.new_rom(&name, s).unwrap(), Kind::Rom, u128::from(s))
            }
            6..=7 => {
                let s = random_size(&mut rng);
                (m.new_io(&name, s, Rc::new(Nop)), Kind::Io, u128::from(s))
            }
            _ => {
                // An alias of any earlier region except the root (aliases of aliases included).
                let target = 1 + rng
                    .below(spec.nodes.len() as u64 - 1)
                    .min(spec.nodes.len() as u64) as usize;
                if target >= spec.nodes.len() {
                    continue;
                }
                let tsize = spec.nodes[target].size as u64;
                let offset = rng.below(tsize);
                let size = 1 + rng.below(tsize - offset);
                let id = m
                    .new_alias(&name, spec.nodes[target].id, offset, size)
                    .unwrap();
                (id, Kind::Alias { target, offset }, u128::from(size))
            }
        };
        spec.nodes.push(Node {
            id,
            kind,
            size,
            enabled: true,
            readonly: false,
            parent: None,
            addr: 0,
            priority: 0,
            seq: 0,
        });
    }
    // Place regions into containers (the root or another container).
    let n = spec.nodes.len();
    for c in 1..n {
        if rng.chance(15) {
            continue;
        }
        let containers: Vec<usize> = (0..n)
            .filter(|&i| spec.nodes[i].kind == Kind::Container && i != c)
            .collect();
        let p = if rng.chance(50) {
            0
        } else {
            containers[rng.below(containers.len() as u64) as usize]
        };
        let psize = spec.nodes[p].size;
        let csize = spec.nodes[c].size;
        if csize > psize {
            continue;
        }
        let addr: u64 = if p == 0 && psize == TOP && rng.chance(15) {
            // End exactly at the top of the 64-bit space.
            (TOP - csize) as u64
        } else {
            let room = (psize - csize).min(0x10_0000) as u64;
            let a = rng.below(room + 1);
            if rng.chance(50) {
                a & !(PAGE_SIZE - 1)
            } else {
                a
            }
        };
        let overlap = rng.chance(60);
        let prio = rng.below(5) as i32 - 2;
        let r = if overlap {
            m.add_subregion_overlap(spec.nodes[p].id, addr, spec.nodes[c].id, prio)
        } else {
            m.add_subregion(spec.nodes[p].id, addr, spec.nodes[c].id)
        };
        let cycle = spec.reaches(c, p);
        assert_eq!(r.is_err(), cycle, "add {c} to {p}: {r:?}");
        if r.is_ok() {
            let seq = spec.seq;
            spec.seq += 1;
            let node = &mut spec.nodes[c];
            node.parent = Some(p);
            node.addr = addr;
            node.priority = if overlap { prio } else { 0 };
            node.seq = seq;
        }
    }
    for c in 1..n {
        if rng.chance(10) {
            spec.nodes[c].enabled = false;
            m.set_enabled(spec.nodes[c].id, false);
        }
        if rng.chance(10) {
            spec.nodes[c].readonly = true;
            m.set_readonly(spec.nodes[c].id, true);
        }
    }
    let space = m.new_address_space("memory", root);
    (m, space, spec)
}

/// Random changes inside one transaction: toggles, moves, priority and alias-offset changes.
fn mutate(m: &mut MemorySystem, spec: &mut Spec, rng: &mut Rng) {
    if spec.nodes.len() < 2 {
        return;
    }
    m.begin();
    for _ in 0..rng.below(6) + 1 {
        let c = 1 + rng.below(spec.nodes.len() as u64 - 1) as usize;
        match rng.below(4) {
            0 => {
                let on = !spec.nodes[c].enabled;
                spec.nodes[c].enabled = on;
                m.set_enabled(spec.nodes[c].id, on);
            }
            1 => {
                if let Some(p) = spec.nodes[c].parent {
                    let room = (spec.nodes[p].size - spec.nodes[c].size).min(0x10_0000) as u64;
                    let addr = rng.below(room + 1);
                    m.set_address(spec.nodes[c].id, addr).unwrap();
                    if addr != spec.nodes[c].addr {
                        spec.nodes[c].addr = addr;
                        spec.nodes[c].seq = spec.seq;
                        spec.seq += 1;
                    }
                }
            }
            2 => {
                if spec.nodes[c].parent.is_some() {
                    let prio = rng.below(5) as i32 - 2;
                    m.set_priority(spec.nodes[c].id, prio).unwrap();
                    spec.nodes[c].priority = prio;
                    spec.nodes[c].seq = spec.seq;
                    spec.seq += 1;
                }
            }
            _ => {
                if let Kind::Alias { target, .. } = spec.nodes[c].kind {
                    let room = (spec.nodes[target].size - spec.nodes[c].size) as u64;
                    let offset = rng.below(room + 1);
                    m.set_alias_offset(spec.nodes[c].id, offset).unwrap();
                    spec.nodes[c].kind = Kind::Alias { target, offset };
                }
            }
        }
    }
    // Nested transaction: nothing is published until the outer commit.
    m.begin();
    m.commit();
    m.commit();
}

/// Check every range boundary, every placement boundary and random addresses.
fn check(
    m: &MemorySystem,
    space: AddressSpaceId,
    spec: &Spec,
    rng: &mut Rng,
) -> std::result::Result<(), TestCaseError> {
    let ranges = m.flat_ranges(space);
    for w in ranges.windows(2) {
        prop_assert!(
            w[0].last < w[1].start,
            "ranges overlap or are unsorted: {:?}",
            w
        );
    }
    let mut probes: Vec<u64> = vec![0, u64::MAX, u64::MAX - 1];
    for r in &ranges {
        probes.extend([
            r.start,
            r.last,
            r.start.wrapping_sub(1),
            r.last.wrapping_add(1),
        ]);
    }
    for node in &spec.nodes {
        let a = node.addr;
        probes.extend([
            a,
            a.wrapping_sub(1),
            a.wrapping_add(node.size as u64),
            a.wrapping_add(node.size as u64).wrapping_sub(1),
        ]);
    }
    for _ in 0..64 {
        probes.push(rng.below(0x12_0000));
        probes.push(u64::MAX - rng.below(0x4000));
    }
    for a in probes {
        let want = spec.resolve(0, u128::from(a), false, 0);
        let t = m.lookup_section(space, GuestAddress(a));
        let fr = m.flat_range_at(space, GuestAddress(a));
        match want {
            None => {
                prop_assert_eq!(t.kind, SectionKind::Unassigned, "addr {:#x}", a);
                prop_assert!(fr.is_none(), "addr {:#x}: flat view has {:?}", a, fr);
            }
            Some((region, offset, ro)) => {
                prop_assert_eq!(
                    (t.region, t.offset_in_region),
                    (region, offset),
                    "dispatch at {:#x}",
                    a
                );
                let fr =
                    fr.ok_or_else(|| TestCaseError::fail(format!("no flat range at {a:#x}")))?;
                prop_assert_eq!(
                    (fr.region, fr.offset_in_region + (a - fr.start)),
                    (region, offset),
                    "flat view at {:#x}",
                    a
                );
                prop_assert_eq!(fr.readonly, ro, "readonly at {:#x}", a);
                prop_assert!(t.len >= 1 && u128::from(t.len) <= u128::from(fr.last - a) + 1);
            }
        }
    }
    Ok(())
}

/// A listener that keeps its own copy of the view from add/del calls only.
type MirrorMap = std::collections::BTreeMap<u64, (u128, RegionId, u64, bool)>;
struct Mirror(Rc<std::cell::RefCell<MirrorMap>>);

impl MemoryListener for Mirror {
    fn region_add(&mut self, s: &MemoryRegionSection) {
        let old = self.0.borrow_mut().insert(
            s.offset_within_address_space.0,
            (s.size, s.region, s.offset_within_region, s.readonly),
        );
        assert!(
            old.is_none(),
            "region_add over a live range at {:#x}",
            s.offset_within_address_space.0
        );
    }
    fn region_del(&mut self, s: &MemoryRegionSection) {
        let old = self.0.borrow_mut().remove(&s.offset_within_address_space.0);
        assert_eq!(
            old,
            Some((s.size, s.region, s.offset_within_region, s.readonly)),
            "region_del of an unknown range"
        );
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 1000, failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn flat_view_and_dispatch_agree_with_the_tree(seed in any::<u64>()) {
        let (m, space, spec) = build(seed);
        let mut rng = Rng(seed.rotate_left(17) | 1);
        check(&m, space, &spec, &mut rng)?;
    }

    #[test]
    fn listener_diffs_rebuild_the_view(seed in any::<u64>()) {
        let (mut m, space, mut spec) = build(seed);
        let mirror = Rc::new(std::cell::RefCell::new(std::collections::BTreeMap::new()));
        m.register_listener(space, Box::new(Mirror(mirror.clone())));
        let mut rng = Rng(seed.rotate_left(41) | 1);
        for _ in 0..3 {
            let before = m.generation(space);
            let old = m.flat_ranges(space);
            mutate(&mut m, &mut spec, &mut rng);
            let now: Vec<(u64, u128, RegionId, u64, bool)> = m
                .flat_ranges(space)
                .iter()
                .map(|r| (r.start, r.size(), r.region, r.offset_in_region, r.readonly))
                .collect();
            let seen: Vec<(u64, u128, RegionId, u64, bool)> =
                mirror.borrow().iter().map(|(&a, &(s, r, o, ro))| (a, s, r, o, ro)).collect();
            prop_assert_eq!(&seen, &now);
            prop_assert_eq!(m.generation(space) != before, old != m.flat_ranges(space));
        }
    }

    #[test]
    fn views_stay_right_after_transactions(seed in any::<u64>()) {
        let (mut m, space, mut spec) = build(seed);
        let mut rng = Rng(seed.rotate_left(29) | 1);
        for _ in 0..3 {
            mutate(&mut m, &mut spec, &mut rng);
            check(&m, space, &spec, &mut rng)?;
        }
    }
}
