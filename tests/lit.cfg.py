# lit configuration: tests mirror the source tree (frontend/, passes/, ...).
import os
import lit.formats

config.name = "tensorc"
config.test_format = lit.formats.ShTest(execute_external=True)
config.suffixes = [".tc", ".test"]
config.excludes = ["Inputs", "lit.cfg.py", "lit.site.cfg.py.in"]

config.environment["PATH"] = os.pathsep.join(
    [config.tensorc_bin_dir, config.llvm_tools_dir, config.environment.get("PATH", os.environ["PATH"])])
for var in ("ASAN_OPTIONS", "UBSAN_OPTIONS", "HOME", "TMPDIR"):
    if var in os.environ:
        config.environment[var] = os.environ[var]
config.environment.pop("TENSORC_DEBUG", None)

config.substitutions.append(("%python", config.python))
config.substitutions.append(("%stdlib", os.path.join(os.path.dirname(config.test_source_root), "lib")))
config.substitutions.append(("%examples", os.path.join(os.path.dirname(config.test_source_root), "examples")))
config.substitutions.append(("%inputs", os.path.join(config.test_source_root, "Inputs")))

if config.sanitize:
    config.available_features.add("sanitize")
