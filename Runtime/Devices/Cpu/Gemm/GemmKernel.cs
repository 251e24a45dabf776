namespace Dsl.Devices.Cpu.Gemm;

/// <summary>Which instruction set the GEMM kernels use; chosen once from the hardware, overridable in tests.</summary>
internal enum GemmKernel
{
    /// <summary>512-bit micro-kernels (12 x 32 tiles) and the dot-product kernel.</summary>
    Vector512,

    /// <summary>256-bit micro-kernels (6 x 16 tiles), for machines without AVX-512.</summary>
    Vector256,

    /// <summary>Plain loops over the same packed layout (4 x 16 tiles).</summary>
    Scalar,
}
