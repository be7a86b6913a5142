#!/usr/bin/env python3
"""Runs the Ferrite RISCOF plugin on this directory's own small suite
(suite/src) the way RISCOF would, and compares each signature with the
reference simulator's (suite/reference, made by Spike: see docs/suites.md).

Without RISCOF installed, the two RISCOF modules the plugin imports are
stood in for by minimal ones (the plugin base class and a YAML reader), so
the check needs only Python, the cross compiler and Ferrite.

    riscof/check_plugin.py --ferrite target/release/ferrite [--work DIR]

Exit status 0 when every signature matches.
"""

import argparse
import os
import re
import sys
import tempfile
import types

HERE = os.path.dirname(os.path.abspath(__file__))


def stand_in_riscof():
    """Minimal `riscof.pluginTemplate` and `riscof.utils` modules."""
    riscof = types.ModuleType("riscof")
    template = types.ModuleType("riscof.pluginTemplate")
    utils = types.ModuleType("riscof.utils")

    class pluginTemplate:
        __model__ = "Template"

        def __init__(self, *args, **kwargs):
            self.name = kwargs.get("name", "DUT")

        def getname(self):
            return self._role + "-" + self.__model__ + ":"

        def setname(self, role):
            self._role = role

        name = property(getname, setname)

    def load_yaml(path):
        # Only what plugins read: hart0's ISA and supported_xlen.
        text = open(path).read()
        isa = re.search(r"^\s*ISA:\s*(\S+)", text, re.M).group(1)
        xlen = [int(x) for x in re.search(r"supported_xlen:\s*\[([^\]]*)\]", text).group(1).split(",")]
        return {"hart0": {"ISA": isa, "supported_xlen": xlen}}

    template.pluginTemplate = pluginTemplate
    utils.load_yaml = load_yaml
    riscof.pluginTemplate = template
    riscof.utils = utils
    sys.modules.update({"riscof": riscof, "riscof.pluginTemplate": template, "riscof.utils": utils})


def test_list(src_dir, work_dir):
    """The test list RISCOF would build: each test's ISA and macros from
    its RVTEST_ISA and RVTEST_CASE."""
    tests = {}
    for name in sorted(os.listdir(src_dir)):
        if not name.endswith(".S"):
            continue
        path = os.path.join(src_dir, name)
        text = open(path).read()
        isa = re.search(r'RVTEST_ISA\("([^"]+)"\)', text).group(1)
        macros = re.findall(r"def (\w+=\w+);", text)
        wd = os.path.join(work_dir, name[:-2])
        os.makedirs(wd, exist_ok=True)
        tests[path] = {"test_path": path, "work_dir": wd, "isa": isa, "macros": macros}
    return tests


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--ferrite", required=True, help="the ferrite binary")
    parser.add_argument("--work", help="work directory (default: a temporary one)")
    args = parser.parse_args()
    try:
        import riscof.pluginTemplate  # noqa: F401
    except ImportError:
        stand_in_riscof()
    sys.path.insert(0, os.path.join(HERE, "ferrite"))
    from riscof_ferrite import ferrite

    work = args.work or tempfile.mkdtemp(prefix="ferrite-riscof-")
    plugin_dir = os.path.join(HERE, "ferrite")
    dut = ferrite(name="DUT", config={
        "PATH": os.path.dirname(os.path.abspath(args.ferrite)),
        "pluginpath": plugin_dir,
        "ispec": os.path.join(plugin_dir, "ferrite_isa.yaml"),
        "pspec": os.path.join(plugin_dir, "ferrite_platform.yaml"),
        "jobs": 2,
    })
    suite = os.path.join(HERE, "suite")
    dut.initialise(os.path.join(suite, "src"), work, os.path.join(suite, "env"))
    dut.build(os.path.join(plugin_dir, "ferrite_isa.yaml"), os.path.join(plugin_dir, "ferrite_platform.yaml"))
    tests = test_list(os.path.join(suite, "src"), work)
    dut.runTests(tests)

    failed = 0
    for entry in tests.values():
        name = os.path.basename(entry["work_dir"])
        got_path = os.path.join(entry["work_dir"], "DUT-ferrite.signature")
        ref_path = os.path.join(suite, "reference", name + ".signature")
        if not os.path.exists(got_path):
            print("FAIL %s: no signature" % name)
            failed += 1
            continue
        got = open(got_path).read().split()
        ref = open(ref_path).read().split()
        if got != ref:
            line = next(i for i in range(max(len(got), len(ref)))
                        if i >= len(got) or i >= len(ref) or got[i] != ref[i])
            print("FAIL %s: line %d is %s, the reference has %s" % (
                name, line + 1, got[line] if line < len(got) else "(nothing)",
                ref[line] if line < len(ref) else "(nothing)"))
            failed += 1
        else:
            print("ok   %s (%d words)" % (name, len(got)))
    print("--- %d passed, %d failed" % (len(tests) - failed, failed))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
