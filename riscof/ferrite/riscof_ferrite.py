"""RISCOF DUT plugin for Ferrite.

RISCOF hands the plugin a list of architectural tests; the plugin compiles
each with riscv64-unknown-elf-gcc against this plugin's env/ (link.ld and
model_test.h: the spike board's memory map and HTIF), then runs all of them
in one `ferrite suite` process, which builds each guest in-process on a pool
of threads instead of starting one simulator per test, and copies each
test's signature to where RISCOF looks for it (DUT-ferrite.signature in the
test's work directory). See docs/suites.md, "RISCOF".

Configuration (config.ini, section [ferrite]):
    pluginpath  this directory
    ispec       the ISA YAML (ferrite_isa.yaml here)
    pspec       the platform YAML (ferrite_platform.yaml here)
    PATH        directory holding the `ferrite` binary (default: $PATH)
    jobs        compile and run jobs (default: the number of cores)
    target_run  0 to compile only
"""

import concurrent.futures
import json
import os
import re
import shutil
import subprocess
import sys

from riscof.pluginTemplate import pluginTemplate
import riscof.utils as utils

# Instructions one test may run: the architectural tests run tens of
# thousands; a test reaching this hangs.
MAX_INSNS = 100_000_000


class ferrite(pluginTemplate):
    __model__ = "ferrite"
    __version__ = "0.1.0"

    def __init__(self, *args, **kwargs):
        sclass = super().__init__(*args, **kwargs)
        config = kwargs.get("config")
        if config is None:
            print("ferrite plugin: no [ferrite] section in config.ini", file=sys.stderr)
            raise SystemExit(1)
        self.ferrite = os.path.join(config.get("PATH", ""), "ferrite")
        self.jobs = int(config.get("jobs", os.cpu_count() or 1))
        self.pluginpath = os.path.abspath(config["pluginpath"])
        self.isa_spec = os.path.abspath(config["ispec"])
        self.platform_spec = os.path.abspath(config["pspec"])
        self.target_run = str(config.get("target_run", "1")) != "0"
        return sclass

    def initialise(self, suite, work_dir, archtest_env):
        self.work_dir = work_dir
        self.suite_dir = suite
        self.archtest_env = archtest_env
        self.gcc = "riscv64-unknown-elf-gcc"

    def build(self, isa_yaml, platform_yaml):
        ispec = utils.load_yaml(isa_yaml)["hart0"]
        self.xlen = 64 if 64 in ispec["supported_xlen"] else 32
        if self.xlen != 64:
            print("ferrite plugin: Ferrite's harts are RV64 only", file=sys.stderr)
            raise SystemExit(1)
        # The tests pass no floating-point arguments: the integer ABI fits
        # every -march.
        self.mabi = "lp64"
        # The harts get the ISA the YAML gives, in the reference
        # simulator's --isa spelling (which Ferrite reads too).
        self.isa = march(ispec["ISA"])

    def compile_command(self, entry, elf):
        return [
            self.gcc,
            # -march wants multi-letter extensions after underscores; the
            # test list spells the ISA as RISC-V does.
            "-march=" + march(entry["isa"]),
            "-mabi=" + self.mabi,
            "-static",
            "-mcmodel=medany",
            "-fvisibility=hidden",
            "-nostdlib",
            "-nostartfiles",
            "-g",
            "-T", os.path.join(self.pluginpath, "env", "link.ld"),
            "-I", os.path.join(self.pluginpath, "env"),
            "-I", self.archtest_env,
            entry["test_path"],
            "-o", elf,
        ] + ["-D" + m for m in entry.get("macros", [])]

    def runTests(self, testList):
        sig_name = self.name[:-1] + ".signature"
        entries = list(testList.values())
        elves = [os.path.join(e["work_dir"], "ferrite.elf") for e in entries]

        def compile_one(pair):
            entry, elf = pair
            cmd = self.compile_command(entry, elf)
            done = subprocess.run(cmd, cwd=entry["work_dir"], capture_output=True, text=True)
            return entry, done

        failed = []
        with concurrent.futures.ThreadPoolExecutor(self.jobs) as pool:
            for entry, done in pool.map(compile_one, zip(entries, elves)):
                if done.returncode != 0:
                    failed.append(entry["test_path"])
                    sys.stderr.write(done.stdout + done.stderr)
        if failed:
            print("ferrite plugin: %d tests did not compile" % len(failed), file=sys.stderr)
        if not self.target_run:
            raise SystemExit(0)

        sig_dir = os.path.join(self.work_dir, "ferrite-signatures")
        os.makedirs(sig_dir, exist_ok=True)
        manifest = os.path.join(self.work_dir, "ferrite-suite.toml")
        names = []
        with open(manifest, "w") as m:
            m.write("# Written by the RISCOF plugin: one test per architectural test.\n")
            m.write('[defaults]\nmachine = "spike"\nisa = %s\n' % json.dumps(self.isa))
            m.write("max-insns = %d\nsignature-granularity = 4\n" % MAX_INSNS)
            for i, (entry, elf) in enumerate(zip(entries, elves)):
                if entry["test_path"] in failed:
                    continue
                name = "t%05d" % i
                names.append((name, entry))
                m.write("\n[[test]]\n# %s\nname = %s\nelf = %s\n"
                        % (entry["test_path"], json.dumps(name), json.dumps(elf)))
        run = subprocess.run(
            [self.ferrite, "suite", manifest, "-j", str(self.jobs),
             "--signature-dir", sig_dir,
             "--json", os.path.join(self.work_dir, "ferrite-results.json")],
            capture_output=True, text=True)
        if run.returncode not in (0, 1):
            sys.stderr.write(run.stderr)
            print("ferrite plugin: `ferrite suite` could not run", file=sys.stderr)
            raise SystemExit(1)
        for name, entry in names:
            produced = os.path.join(sig_dir, name + ".signature")
            if os.path.exists(produced):
                shutil.copyfile(produced, os.path.join(entry["work_dir"], sig_name))
            else:
                print("ferrite plugin: no signature for " + entry["test_path"], file=sys.stderr)
        if run.returncode == 1:
            # A test that did not halt cleanly: its signature is still
            # compared, and the suite's report says what went wrong.
            sys.stderr.write(run.stderr)


def march(isa):
    """RISC-V's ISA spelling (RV64IMAFDCSUZicsr_Zifencei) as gcc's -march
    and the simulators' --isa (rv64imafdc_zicsr_zifencei)."""
    isa = isa.lower()
    m = re.match(r"(rv\d+)([a-y]*)(z.*)?$", isa)
    if not m:
        return isa
    base, singles, multi = m.group(1), m.group(2), m.group(3) or ""
    # S and U name privilege modes, not instruction sets.
    singles = singles.replace("s", "").replace("u", "")
    exts = [p for p in multi.split("_") if p]
    # The test environment's CSR accesses and fence.i need these, which
    # newer assemblers no longer imply.
    for needed in ("zicsr", "zifencei"):
        if needed not in exts:
            exts.append(needed)
    return base + singles + "".join("_" + e for e in exts)
