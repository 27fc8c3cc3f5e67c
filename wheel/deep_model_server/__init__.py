"""Deep Model Server installed with pip: the console entry points that run its native binaries.

The wheel carries `deep-model-server` and `deep-model-export` (Swift, with the Swift runtime
linked in) in `deep_model_server/bin/`, and the libraries they link that a bare Linux lacks in
`deep_model_server.libs/`. The engines are this environment's own `mxnet` and `onnxruntime`
packages, which the wheel depends on. An entry point tells the binary where those engines are,
which Python runs custom services and where their `dms` / `mms` packages are (only what the
environment does not set already: `DMS_MXNET_LIBRARY`, `DMS_ONNXRUNTIME_LIBRARY`,
`DMS_SERVICE_PYTHON`, `DMS_SERVICE_PACKAGES`), then becomes the binary (`os.execve`): signals,
exit status and standard streams are the binary's own, with no Python process left in between.
"""

import glob
import importlib.util
import os
import sys

BINARIES = os.path.join(os.path.dirname(os.path.abspath(__file__)), "bin")


def _package_folder(name):
    """The folder of the installed package `name`, found without importing it; None if absent."""
    spec = importlib.util.find_spec(name)
    if spec is None or not spec.submodule_search_locations:
        return None
    return list(spec.submodule_search_locations)[0]


def _first_match(folder, pattern):
    if folder is None:
        return None
    matches = sorted(glob.glob(os.path.join(folder, pattern)))
    return matches[0] if matches else None


def environment_locations():
    """The engine libraries, the service interpreter and the service packages of this environment,
    as the variables the binaries read; a location that is not installed is left out."""
    service_packages = _package_folder("dms")
    found = {
        "DMS_MXNET_LIBRARY": _first_match(_package_folder("mxnet"), "libmxnet.so"),
        # The onnxruntime wheel names its library with the version: capi/libonnxruntime.so.1.x.y.
        "DMS_ONNXRUNTIME_LIBRARY": _first_match(_package_folder("onnxruntime"), os.path.join("capi", "libonnxruntime.so*")),
        "DMS_SERVICE_PYTHON": sys.executable,
        "DMS_SERVICE_PACKAGES": os.path.dirname(service_packages) if service_packages else None,
    }
    return {name: value for name, value in found.items() if value}


def _run(binary):
    environment = dict(os.environ)
    for name, value in environment_locations().items():
        if not environment.get(name):
            environment[name] = value
    path = os.path.join(BINARIES, binary)
    try:
        os.execve(path, [binary, *sys.argv[1:]], environment)
    except OSError as error:
        sys.exit(f"{binary}: cannot run {path}: {error.strerror}")


def serve():
    """`deep-model-server`: the server."""
    _run("deep-model-server")


def export():
    """`deep-model-export`: packs a model folder into a `.model` archive."""
    _run("deep-model-export")
