"""tensorc.py - call a model compiled with `tensorc --emit=shared` from Python.

    import numpy as np, tensorc
    m = tensorc.load("libmodel.so", seed=0)
    labels = m.predict(np.zeros((5, 64), np.float32))

Pure Python (ctypes and NumPy, nothing to compile).  The library exports
`tensorc_module`, a pointer to its tc_module descriptor (tensorc/api.h), and
the runtime's tcrt_* functions; this module reads the descriptor, makes a
context with tcrt_api_create and turns each exported function into a method
that calls tcrt_api_call.  The reference is docs/python.md; in short:

  - inputs are never copied here: each ndarray becomes a DLTensor over the
    array's own buffer (strides included; the runtime copies a strided input
    into a contiguous temporary itself, and checks dtypes and shapes);
  - on a model compiled for the GPU, NumPy arrays are copied to the device by
    the runtime, and objects whose __dlpack_device__ says CUDA (CuPy arrays,
    PyTorch CUDA tensors) pass through DLPack as they are: the runtime takes
    their device memory without a copy where the GPU code allows it (else
    through the host); the producer stays alive during the call and the
    capsule is consumed as the DLPack protocol says.  Results come back as
    NumPy arrays either way (host memory); Model.device says where the
    model runs (load(..., device="cuda:0"|"cpu"|"auto"), else $TC_DEVICE);
  - results are the runtime's own buffers, wrapped as NumPy arrays without a
    copy and freed (tcrt_free) when the array is garbage collected; a rank-0
    result is returned as a NumPy scalar (np.float32(...)), several results
    as a tuple;
  - every failure is a tensorc.Error carrying the runtime's status code and
    message;
  - a Model (one context) is for one thread at a time; load twice for two.
"""

import ctypes
import json
import os
import threading
import weakref

import numpy as np

__all__ = ["Error", "Model", "load", "ABI_VERSION"]

ABI_VERSION = 4  # TENSORC_ABI_VERSION this module was written against

# runtime.h's status codes
TC_OK, TC_ERR_RUNTIME, TC_ERR_INPUT, TC_ERR_NOMEM = 0, 1, 2, 3
TC_MAX_RANK = 8
TC_DIM_COMPUTED = -2


class Error(Exception):
    """A failure reported by the runtime (or found before calling it).

    `code` is runtime.h's status: 1 TC_ERR_RUNTIME (the program failed while
    running), 2 TC_ERR_INPUT (a bad argument, option or file), 3 TC_ERR_NOMEM.
    `message` is the runtime's text, which names the function and argument."""

    def __init__(self, code, message):
        super().__init__(message)
        self.code = code
        self.message = message


# ---------- the C structs (dlpack.h v0.6, tensorc/runtime.h, tensorc/api.h) ----------

class _DLDevice(ctypes.Structure):
    _fields_ = [("device_type", ctypes.c_int32), ("device_id", ctypes.c_int32)]


class _DLDataType(ctypes.Structure):
    _fields_ = [("code", ctypes.c_uint8), ("bits", ctypes.c_uint8), ("lanes", ctypes.c_uint16)]


class _DLTensor(ctypes.Structure):
    _fields_ = [("data", ctypes.c_void_p), ("device", _DLDevice), ("ndim", ctypes.c_int32),
                ("dtype", _DLDataType), ("shape", ctypes.POINTER(ctypes.c_int64)),
                ("strides", ctypes.POINTER(ctypes.c_int64)), ("byte_offset", ctypes.c_uint64)]


class _TcArray(ctypes.Structure):  # tc_array; tc_dtype is a C enum (an int)
    _fields_ = [("data", ctypes.c_void_p), ("dtype", ctypes.c_int), ("rank", ctypes.c_int),
                ("shape", ctypes.c_int64 * TC_MAX_RANK)]


class _TcDimDesc(ctypes.Structure):
    _fields_ = [("sym", ctypes.c_int), ("value", ctypes.c_int64)]


class _TcArgDesc(ctypes.Structure):
    _fields_ = [("name", ctypes.c_char_p), ("dtype", ctypes.c_int), ("rank", ctypes.c_int),
                ("dims", _TcDimDesc * TC_MAX_RANK), ("has_default", ctypes.c_int),
                ("default_value", ctypes.c_double)]


class _TcFuncDesc(ctypes.Structure):
    _fields_ = [("name", ctypes.c_char_p), ("nargs", ctypes.c_int), ("args", ctypes.POINTER(_TcArgDesc)),
                ("nresults", ctypes.c_int), ("results", ctypes.POINTER(_TcArgDesc)),
                ("nsyms", ctypes.c_int), ("sym_names", ctypes.POINTER(ctypes.c_char_p)),
                ("fn", ctypes.c_void_p)]


class _TcModule(ctypes.Structure):
    _fields_ = [("abi_version", ctypes.c_int), ("hash", ctypes.c_uint64), ("name", ctypes.c_char_p),
                ("signature", ctypes.c_char_p), ("nparams", ctypes.c_int), ("params", ctypes.c_void_p),
                ("nfuncs", ctypes.c_int), ("funcs", ctypes.POINTER(_TcFuncDesc)), ("init", ctypes.c_void_p),
                ("gpu", ctypes.c_void_p), ("cpu", ctypes.c_void_p)]


class _Options(ctypes.Structure):  # tensorc_options
    _fields_ = [("seed", ctypes.c_uint64), ("threads", ctypes.c_int), ("params_in", ctypes.c_char_p),
                ("device", ctypes.c_char_p)]


class _DLManagedTensor(ctypes.Structure):  # dlpack.h: what a "dltensor" capsule holds
    _fields_ = [("dl_tensor", _DLTensor), ("manager_ctx", ctypes.c_void_p), ("deleter", ctypes.c_void_p)]


_DELETER = ctypes.CFUNCTYPE(None, ctypes.c_void_p)
_KDLCPU, _KDLCUDA = 1, 2
_capsule_valid = ctypes.pythonapi.PyCapsule_IsValid
_capsule_valid.restype, _capsule_valid.argtypes = ctypes.c_int, [ctypes.py_object, ctypes.c_char_p]
_capsule_pointer = ctypes.pythonapi.PyCapsule_GetPointer
_capsule_pointer.restype, _capsule_pointer.argtypes = ctypes.c_void_p, [ctypes.py_object, ctypes.c_char_p]
_capsule_rename = ctypes.pythonapi.PyCapsule_SetName
_capsule_rename.restype, _capsule_rename.argtypes = ctypes.c_int, [ctypes.py_object, ctypes.c_char_p]


# tc_dtype (runtime.h) -> NumPy dtype, C scalar type, and the name the JSON uses
_NP = {1: np.dtype(np.bool_), 2: np.dtype(np.int32), 3: np.dtype(np.int64),
       4: np.dtype(np.float32), 5: np.dtype(np.float64)}
_CTYPE = {1: ctypes.c_bool, 2: ctypes.c_int32, 3: ctypes.c_int64, 4: ctypes.c_float, 5: ctypes.c_double}
_NAME = {1: "bool", 2: "i32", 3: "i64", 4: "f32", 5: "f64"}
# NumPy kind -> DLPack type code (kDLInt 0, kDLUInt 1, kDLFloat 2, kDLComplex 5, kDLBool 6)
_DL_CODE = {"i": 0, "u": 1, "f": 2, "c": 5, "b": 6}


def _bind(lib):
    """Declares the prototypes of the runtime functions this module calls."""
    P, I, V = ctypes.c_void_p, ctypes.c_int, None
    for name, res, args in [
            ("tcrt_abi_version", I, []),
            ("tcrt_api_create", P, [P, ctypes.POINTER(_Options), I, ctypes.c_uint64]),
            ("tcrt_api_call", I, [P, P, P, P, P]),
            ("tcrt_api_param", I, [P, P, ctypes.c_char_p, ctypes.POINTER(_DLTensor)]),
            ("tcrt_error", ctypes.c_char_p, [P]),
            ("tcrt_ctx_free", V, [P]),
            ("tcrt_free", V, [P]),
            ("tcrt_alloc_count", ctypes.c_int64, []),
            ("tcrt_api_device", ctypes.c_char_p, [P]),
            ("tcrt_dev_alloc", P, [P, ctypes.c_int64]),
            ("tcrt_dev_free", V, [P, P]),
            ("tcrt_dev_copy", I, [P, P, P, ctypes.c_int64, I]),
            ("tcrt_dev_copy_calls", ctypes.c_int64, [I])]:
        f = getattr(lib, name)
        f.restype, f.argtypes = res, args


def _text(b):
    return b.decode("utf-8", "replace") if b else ""


# ---------- outputs: runtime buffers owned by NumPy arrays ----------

def _free_buffer(free, lock, ptr):
    # The runtime hands raw results over detached from the context's list
    # of blocks (api.c), so this needs no lock for the runtime's sake; it
    # is kept so that a free never runs beside a call on the same model.
    with lock:
        free(ptr)


def _wrap(core, res):
    """A NumPy array over the tc_array result `res`, owning its buffer."""
    dt = _NP[res.dtype]
    shape = tuple(res.shape[i] for i in range(res.rank))
    n = int(np.prod(shape, dtype=np.int64))
    if n == 0 or res.rank == 0:
        # nothing to share (empty), or a scalar: the value, then the buffer back
        value = np.empty(shape, dt) if n == 0 else np.frombuffer(
            (ctypes.c_char * dt.itemsize).from_address(res.data), dt)[0]
        _free_buffer(core.lib.tcrt_free, core.lock, res.data)
        return value
    # A ctypes array over the buffer is the array's base: while any view of
    # the result lives, so does it, and its finalizer frees the buffer once.
    owner = (ctypes.c_char * (n * dt.itemsize)).from_address(res.data)
    weakref.finalize(owner, _free_buffer, core.lib.tcrt_free, core.lock, res.data)
    return np.frombuffer(owner, dt).reshape(shape)


# ---------- inputs ----------

def _cuda_dltensor(fname, d, x, keep, after):
    """The DLTensor of CUDA producer x (CuPy, PyTorch), from its DLPack
    capsule, consumed: renamed "used_dltensor" and its deleter called by
    `after` once the call is over; x is kept alive until then."""
    try:
        capsule = x.__dlpack__()  # stream None: the legacy default stream
    except Exception as e:
        raise Error(TC_ERR_INPUT, "%s: argument '%s': __dlpack__() failed: %s" % (fname, d["name"], e)) from None
    if not _capsule_valid(capsule, b"dltensor"):
        raise Error(TC_ERR_INPUT, "%s: argument '%s': __dlpack__() gave no unused DLPack capsule ('dltensor')"
                    % (fname, d["name"]))
    managed = _DLManagedTensor.from_address(_capsule_pointer(capsule, b"dltensor"))
    _capsule_rename(capsule, b"used_dltensor")  # ours now: its destructor leaves the tensor alone
    if managed.deleter:
        deleter = _DELETER(managed.deleter)
        address = ctypes.addressof(managed)
        after.append(lambda: deleter(address))
    keep += [x, capsule, managed]
    return managed.dl_tensor


def _dltensor(fname, d, x, keep, after=None):
    """A DLTensor over ndarray x's own memory (no copy), for argument d; a
    CUDA producer's own DLTensor (see _cuda_dltensor)."""
    if not isinstance(x, np.ndarray):
        device = None
        if hasattr(x, "__dlpack_device__"):
            try:
                device = tuple(x.__dlpack_device__())
            except Exception:
                device = None
        if device and device[0] == _KDLCUDA and after is not None:
            return _cuda_dltensor(fname, d, x, keep, after)
        if device and device[0] not in (_KDLCPU, 3):  # (3: kDLCUDAHost, pinned host memory)
            raise Error(TC_ERR_INPUT, "%s: argument '%s' is on DLPack device %s; expected the CPU or CUDA"
                        % (fname, d["name"], device))
        if hasattr(x, "__dlpack__"):
            x = np.from_dlpack(x)  # a zero-copy view (CPU producers only)
        else:
            raise Error(TC_ERR_INPUT, "%s: argument '%s' must be a numpy.ndarray (%s expected), not %s"
                        % (fname, d["name"], d["type"], type(x).__name__))
    dt = x.dtype
    if dt.kind not in _DL_CODE or not dt.isnative or dt.fields is not None:
        raise Error(TC_ERR_INPUT, "%s: argument '%s' (%s) has dtype %s, expected %s"
                    % (fname, d["name"], d["type"], dt, _NAME[d["dtype"]]))
    if dt.kind == "u" and d["dtype"] == 1:
        # NumPy's uint8 holds 0..255: refused (the runtime refuses it too), with a hint
        raise Error(TC_ERR_INPUT, "%s: argument '%s' (%s) has dtype uint8, expected bool; use .astype(bool)"
                    % (fname, d["name"], d["type"]))
    if any(s % dt.itemsize for s in x.strides):
        raise Error(TC_ERR_INPUT, "%s: argument '%s' has strides %s that are not a multiple of its item size"
                    % (fname, d["name"], x.strides))
    nd = x.ndim
    shape = (ctypes.c_int64 * max(nd, 1))(*x.shape)
    strides = (ctypes.c_int64 * max(nd, 1))(*(s // dt.itemsize for s in x.strides))
    t = _DLTensor()
    t.data = x.ctypes.data  # the address of x[0, ..., 0]: x's own buffer
    t.device = _DLDevice(1, 0)  # kDLCPU
    t.ndim = nd
    t.dtype = _DLDataType(_DL_CODE[dt.kind], dt.itemsize * 8, 1)
    t.shape = shape
    t.strides = strides
    t.byte_offset = 0
    keep += [x, shape, strides, t]  # alive until the call returns
    return t


def _scalar(fname, d, v):
    """Python or NumPy scalar v as the C value of scalar argument d."""
    dt = d["dtype"]
    if isinstance(v, np.ndarray):
        if v.ndim != 0:
            raise Error(TC_ERR_INPUT, "%s: argument '%s' (%s) is a scalar; got an array of shape %s"
                        % (fname, d["name"], d["type"], v.shape))
        v = v[()]
    try:
        if dt == 1:
            if not isinstance(v, (bool, np.bool_, int, np.integer)) or v not in (0, 1):
                raise TypeError
            return ctypes.c_bool(bool(v))
        if dt in (2, 3):
            if isinstance(v, (bool, np.bool_)):
                raise TypeError
            v = int(v.__index__())  # integers only: 2.5 is not silently truncated
            info = np.iinfo(np.int32 if dt == 2 else np.int64)
            if not info.min <= v <= info.max:
                raise Error(TC_ERR_INPUT, "%s: argument '%s' (%s): %d is out of range"
                            % (fname, d["name"], d["type"], v))
            return _CTYPE[dt](v)
        if isinstance(v, (str, bytes)):
            raise TypeError
        return _CTYPE[dt](float(v))
    except (TypeError, ValueError, AttributeError):
        raise Error(TC_ERR_INPUT, "%s: argument '%s' (%s) cannot take %r" % (fname, d["name"], d["type"], v)) from None


# ---------- models ----------

class Function:
    """One exported function of a model, called as model.NAME(...)."""

    def __init__(self, core, desc):
        self._core = core  # not the Model: `f = load(path).predict` keeps the context alive
        self._desc = ctypes.pointer(desc)
        self.name = _text(desc.name)
        syms = [_text(desc.sym_names[i]) for i in range(desc.nsyms)]

        def describe(a):
            dims = []
            for i in range(a.rank):
                s = a.dims[i].sym
                dims.append(syms[s] if s >= 0 else "?" if s == TC_DIM_COMPUTED else str(a.dims[i].value))
            typ = _NAME[a.dtype] + ("[%s]" % ", ".join(dims) if dims else "")
            return {"name": _text(a.name), "dtype": a.dtype, "rank": a.rank, "type": typ,
                    "default": a.default_value if a.has_default else None}

        self.args = [describe(desc.args[i]) for i in range(desc.nargs)]
        self.results = [describe(desc.results[i]) for i in range(desc.nresults)]
        self.__doc__ = "%s(%s) -> %s" % (
            self.name, ", ".join("%s: %s%s" % (a["name"], a["type"],
                                               "" if a["default"] is None else " = %g" % a["default"])
                                 for a in self.args),
            ", ".join(r["type"] for r in self.results) or "None")

    def __repr__(self):
        return "<tensorc function %s>" % self.__doc__

    def __call__(self, *args, **kwargs):
        m = self._core
        if len(args) > len(self.args):
            raise Error(TC_ERR_INPUT, "%s takes %d arguments, got %d" % (self.name, len(self.args), len(args)))
        values = list(args) + [None] * (len(self.args) - len(args))
        given = [True] * len(args) + [False] * (len(self.args) - len(args))
        names = [a["name"] for a in self.args]
        for k, v in kwargs.items():
            if k not in names:
                raise Error(TC_ERR_INPUT, "%s has no argument '%s'" % (self.name, k))
            i = names.index(k)
            if given[i]:
                raise Error(TC_ERR_INPUT, "%s: argument '%s' given twice" % (self.name, k))
            values[i], given[i] = v, True
        keep, after = [], []
        try:
            return self._call(m, values, given, keep, after)
        finally:
            for f in after:  # DLPack deleters: the device tensors are the producers' again
                f()

    def _call(self, m, values, given, keep, after):
        argv = (ctypes.c_void_p * max(len(self.args), 1))()
        for i, d in enumerate(self.args):
            if not given[i]:
                if d["default"] is None:
                    raise Error(TC_ERR_INPUT, "%s: missing argument '%s' (%s)" % (self.name, d["name"], d["type"]))
                values[i] = d["default"]
            if d["rank"] == 0:
                c = _scalar(self.name, d, values[i])
            else:
                c = _dltensor(self.name, d, values[i], keep, after)
            keep.append(c)
            argv[i] = ctypes.addressof(c)
        raw = (_TcArray * max(len(self.results), 1))()
        with m.lock:
            ctx = m.check_open()
            status = m.api_call(ctx, self._desc, argv, None, raw)
            if status:
                raise Error(status, _text(m.lib.tcrt_error(ctx)))
        out = tuple(_wrap(m, raw[r]) for r in range(len(self.results)))
        return None if not out else out[0] if len(out) == 1 else out


class _Core:
    """What a call needs: the library, the module, the context and its lock.
    Functions and the Model share it; the context is freed when the last of
    them goes (or at close())."""

    def __init__(self, lib, module, ctx, name):
        self.lib = lib
        self.module = module
        self.ctx = ctx
        self.name = name
        self.lock = threading.RLock()  # one call at a time; see _free_buffer
        self.api_call = lib.tcrt_api_call  # (tests wrap it in a spy)
        self.finalizer = weakref.finalize(self, _free_ctx, lib.tcrt_ctx_free, self.lock, ctx)

    def check_open(self):
        if not self.ctx:
            raise Error(TC_ERR_INPUT, "%s: the model is closed" % self.name)
        return self.ctx

    def close(self):
        with self.lock:
            self.ctx = None
            self.finalizer()


def _free_ctx(free, lock, ctx):
    with lock:
        free(ctx)


class Model:
    """A context of a compiled model: its params and its exported functions.

    Made by tensorc.load.  Each exported function is a method (m.predict)
    unless its name is taken by one of Model's own, and is in m.functions
    either way; m.signature is the parsed JSON interface."""

    def __init__(self, path, seed=0, threads=0, params_in=None, device=None):
        self.path = os.fspath(path)
        # RTLD_LOCAL: the .so carries its own copy of the runtime, which
        # must not stand in for another model's.
        try:
            lib = ctypes.CDLL(os.path.abspath(self.path), mode=os.RTLD_LOCAL)
        except OSError as e:
            raise Error(TC_ERR_INPUT, "cannot load %s: %s" % (self.path, e)) from None
        try:
            modp = ctypes.c_void_p.in_dll(lib, "tensorc_module").value
            _bind(lib)
        except (ValueError, AttributeError):
            raise Error(TC_ERR_INPUT, "%s is not a tensorc model library (built with `tensorc --emit=shared`)"
                        % self.path) from None
        module = _TcModule.from_address(modp)
        self.signature = json.loads(_text(module.signature))
        self.name = self.signature["name"]
        # 1. ABI: this file's structs, the library's runtime and the model must agree
        abi = int(self.signature["abi"])
        rt_abi = lib.tcrt_abi_version()
        if abi != ABI_VERSION or rt_abi != ABI_VERSION or module.abi_version != ABI_VERSION:
            raise Error(TC_ERR_INPUT, "%s: ABI version mismatch: the model says %d, its runtime %d, and "
                        "tensorc.py is ABI %d; use the tensorc.py of the tensorc that compiled it"
                        % (self.path, abi, rt_abi, ABI_VERSION))
        hash_ = int(self.signature["hash"], 16)
        if hash_ != module.hash:
            raise Error(TC_ERR_INPUT, "%s: the signature's hash %016x is not the module's %016x"
                        % (self.path, hash_, module.hash))
        # 2. the context
        opt = _Options(seed & (2**64 - 1), threads, None if params_in is None else os.fsencode(params_in),
                       None if device is None else device.encode())
        ctx = lib.tcrt_api_create(modp, ctypes.byref(opt), abi, hash_)
        if not ctx:
            raise Error(TC_ERR_INPUT, _text(lib.tcrt_error(None)))
        self._core = _Core(lib, module, ctx, self.name)
        # 3. the functions, as methods where the name is free
        self.functions = {}
        for i in range(module.nfuncs):
            f = Function(self._core, module.funcs[i])
            self.functions[f.name] = f
            if not hasattr(self, f.name):
                setattr(self, f.name, f)

    def __repr__(self):
        return "<tensorc model %s from %s%s>" % (self.name, self.path, "" if self._core.ctx else ", closed")

    @property
    def device(self):
        """Where the model runs, and why: "cuda:0 (emulator)", "cpu",
        "cpu (no CUDA device: ...)" (runtime tcrt_api_device)."""
        core = self._core
        with core.lock:
            return _text(core.lib.tcrt_api_device(core.check_open()))

    def param(self, name, copy=True):
        """Param `name` as a NumPy array: a copy by default.  With copy=False,
        a writable view of the context's own buffer, valid only until a call
        assigns the param (a train step does) or the model is closed: use it
        at once, and never keep it across such a call.  On the GPU params are
        device memory: copies only."""
        core = self._core
        with core.lock:
            view = _DLTensor()
            status = core.lib.tcrt_api_param(core.check_open(), ctypes.addressof(core.module),
                                             os.fsencode(name), ctypes.byref(view))
            if status:
                raise Error(status, _text(core.lib.tcrt_error(core.ctx)))
            p = next(p for p in self.signature["params"] if p["name"] == name)
            dt = np.dtype({"f32": np.float32, "f64": np.float64, "i32": np.int32,
                           "i64": np.int64, "bool": np.bool_}[p["dtype"]])
            shape = tuple(view.shape[i] for i in range(view.ndim))
            n = int(np.prod(shape, dtype=np.int64))
            if n == 0 or not view.data:
                return np.zeros(shape, dt)
            if view.device.device_type == _KDLCUDA:
                if not copy:
                    raise Error(TC_ERR_INPUT, "%s: param '%s' is device memory (the model runs on %s); "
                                "use param(name) for a copy" % (self.name, name, self.device))
                arr = np.empty(shape, dt)
                status = core.lib.tcrt_dev_copy(core.ctx, arr.ctypes.data, view.data, arr.nbytes, 2)  # D2H
                if status:
                    raise Error(status, _text(core.lib.tcrt_error(core.ctx)))
                return arr
            buf = (ctypes.c_char * (n * dt.itemsize)).from_address(view.data)
            arr = np.frombuffer(buf, dt).reshape(shape)
            return arr.copy() if copy else arr

    @property
    def params(self):
        """Every param, by name, as copies (see param)."""
        return {p["name"]: self.param(p["name"]) for p in self.signature["params"]}

    @property
    def lib(self):
        """The ctypes.CDLL of the library (its tcrt_* functions), for tests and tools."""
        return self._core.lib

    def close(self):
        """Frees the context (params included).  Arrays returned by calls stay
        valid; param views (copy=False) do not; calls raise tensorc.Error.
        Idempotent; also done by `with` and when the model is collected."""
        self._core.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


def load(path, seed=0, threads=0, params_in=None, device=None):
    """Opens a model library built by `tensorc --emit=shared` and makes a
    context for it: params initialised from `seed` (or loaded from
    params_in/NAME.npy), `threads` worker threads (0: the runtime's default),
    on `device` ("cuda", "cuda:N", "cpu", "auto"; None: $TC_DEVICE, else
    auto: see Model.device).  Raises tensorc.Error when the library, its ABI,
    the device or the params do not fit."""
    return Model(path, seed=seed, threads=threads, params_in=params_in, device=device)
