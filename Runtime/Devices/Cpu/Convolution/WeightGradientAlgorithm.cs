namespace Dsl.Devices.Cpu;

/// <summary>
/// The CPU's ways of computing a convolution's weight gradient (the device picks one per geometry unless
/// <see cref="CpuDevice.WeightGradientOverride"/> forces one).
/// </summary>
public enum WeightGradientAlgorithm
{
    /// <summary>dW += dY col^T per chunk of samples with the GEMM kernels (im2col; the Conv1d path has its own GEMMs): any geometry.</summary>
    Im2ColGemm,

    /// <summary>3x3, stride 1, padding 1, one group: a register-blocked reduction over zero-bordered planes, no column matrix.</summary>
    Direct3x3,

    /// <summary>
    /// Stride 1, no dilation, one group, kernels up to 7 wide (the 5x5 layers): dy transposed to rows of output channels,
    /// multiplied by broadcasts of zero-bordered x planes, no column matrix.
    /// </summary>
    DirectKxK,

    /// <summary>
    /// No dilation, one group, kernels up to 3 wide, any stride, 512-bit vectors: a GEMM over implicit im2col columns with
    /// output channels in the lanes, tiles of several tap rows, x read from zero-bordered planes.
    /// </summary>
    ImplicitGemm,
}
