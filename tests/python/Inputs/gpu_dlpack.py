"""gpu_dlpack.py GPU_LIB CPU_LIB - python/tensorc.py with device tensors.

GPU_LIB is tests/capi/Inputs/dev.tc built with --emit=shared --device=cuda
--gpu-emulate, CPU_LIB the same for the CPU.  FakeCuda stands for a CuPy
array or a PyTorch CUDA tensor: it reports kDLCUDA from __dlpack_device__
and its __dlpack__ returns a "dltensor" capsule over device memory, here
the emulator's (allocated with the library's tcrt_dev_alloc on the model's
context, as a real producer would use cudaMalloc).  Prints one line per
check; a failed check raises.
"""
import ctypes
import sys

import numpy as np

sys.path.insert(0, __file__.rsplit("/tests/", 1)[0] + "/python")
import tensorc  # noqa: E402

H2D, D2H = 1, 2


class FakeCuda:
    """Device memory holding a copy of a float32 array, shared through DLPack."""

    def __init__(self, model, array, device_id=0):
        self.lib, self.ctx = model.lib, model._core.ctx
        self.array = np.ascontiguousarray(array, np.float32)
        self.data = self.lib.tcrt_dev_alloc(self.ctx, self.array.nbytes)
        assert self.data
        assert self.lib.tcrt_dev_copy(self.ctx, self.data, self.array.ctypes.data, self.array.nbytes, H2D) == 0
        self.device_id = device_id
        self.deleted = 0
        self.exported = 0

    def __dlpack_device__(self):
        return (2, self.device_id)  # kDLCUDA

    def __dlpack__(self, stream=None):
        nd = self.array.ndim
        self.shape = (ctypes.c_int64 * nd)(*self.array.shape)
        m = tensorc._DLManagedTensor()
        m.dl_tensor.data = self.data
        m.dl_tensor.device = tensorc._DLDevice(2, self.device_id)
        m.dl_tensor.ndim = nd
        m.dl_tensor.dtype = tensorc._DLDataType(2, 32, 1)
        m.dl_tensor.shape = self.shape
        m.dl_tensor.strides = None
        m.dl_tensor.byte_offset = 0

        def deleter(address):
            self.deleted += 1
        self.deleter = tensorc._DELETER(deleter)
        m.deleter = ctypes.cast(self.deleter, ctypes.c_void_p)
        self.managed = m
        self.exported += 1
        new = ctypes.pythonapi.PyCapsule_New
        new.restype, new.argtypes = ctypes.py_object, [ctypes.c_void_p, ctypes.c_char_p, ctypes.c_void_p]
        self.capsule = new(ctypes.addressof(m), b"dltensor", None)
        return self.capsule

    def read(self):
        out = np.empty_like(self.array)
        assert self.lib.tcrt_dev_copy(self.ctx, out.ctypes.data, self.data, out.nbytes, D2H) == 0
        return out


def expect_error(f, text):
    try:
        f()
    except tensorc.Error as e:
        assert text in e.message, e.message
        return e.message
    raise AssertionError("no error; expected " + text)


gpu_lib, cpu_lib = sys.argv[1], sys.argv[2]
x = np.array([[1, 2, 3, 4], [-1, 0.5, 8, 2], [0, 0, 1, -3]], np.float32)
y = np.array([[0.5, 1, 0, 2], [3, -1, 1, 1], [2, 2, -2, 0]], np.float32)

m = tensorc.load(gpu_lib)
print("device:", m.device)
xd, yd = FakeCuda(m, x), FakeCuda(m, y)
out = m.scale(xd, 2.0)
assert isinstance(out, np.ndarray) and np.allclose(out, x * 2 + 0.5, atol=1e-6), out
assert xd.exported == 1 and xd.deleted == 1, (xd.exported, xd.deleted)
assert ctypes.pythonapi.PyCapsule_IsValid(ctypes.py_object(xd.capsule), b"used_dltensor")
print("cuda input: NumPy result, capsule consumed, deleter called once")
out = m.mix(x, yd)
assert np.allclose(out, x + 2 * y, atol=1e-6)
assert np.array_equal(yd.read(), y)
print("numpy and cuda inputs mixed; the device input unchanged")
assert np.allclose(m.param("w"), 0.5)
expect_error(lambda: m.param("w", copy=False), "is device memory")
print("param on the device: copied")
print(expect_error(lambda: m.scale(FakeCuda(m, x, device_id=1), 2.0), "is on cuda:1"))
for dev, text in [("cpu", "compiled for the GPU only"), ("cuda:1", "has one device"), ("tpu", "expected cpu, cuda")]:
    print(expect_error(lambda: tensorc.load(gpu_lib, device=dev), text))
print("explicit cuda:", tensorc.load(gpu_lib, device="cuda").device)

c = tensorc.load(cpu_lib)
print("cpu device:", c.device)
print(expect_error(lambda: c.scale(xd, 2.0), "is a CUDA tensor, but this context runs on the CPU"))
print(expect_error(lambda: tensorc.load(cpu_lib, device="cuda"), "was compiled for the CPU"))
xd.lib.tcrt_dev_free(xd.ctx, xd.data)
yd.lib.tcrt_dev_free(yd.ctx, yd.data)
print("done")
