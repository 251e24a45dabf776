namespace Dsl.Devices.Cpu;

/// <summary>The CPU's ways of computing a convolution's forward pass (the device picks one per geometry unless <see cref="CpuDevice.ConvAlgorithmOverride"/> forces one).</summary>
public enum ConvAlgorithm
{
    /// <summary>im2col of a few samples at a time + packed GEMM, batch split over threads: any geometry.</summary>
    Im2ColGemm,

    /// <summary>Stride-1 convolution of 1-high images, one GEMM per kernel tap.</summary>
    DirectConv1d,

    /// <summary>3x3, stride 1, padding 1, one group, read from zero-bordered planes.</summary>
    Direct3x3,

    /// <summary>Any kernel up to 64 taps, any padding, stride 1 or 2, one group, no dilation, read from zero-bordered phase planes.</summary>
    DirectKxK,
    /// <summary>Winograd F(4x4, 3x3): 3x3, stride 1, padding at most 2, one group; 4x fewer multiplies, larger rounding error.</summary>
    Winograd,

    /// <summary>
    /// Direct convolution in the blocked channel layout (channels in blocks of 16, as oneDNN's nChw16c), converted in and
    /// out per call: one group, strides up to 4, any padding and dilation; 512-bit vectors only.
    /// </summary>
    Blocked,

    /// <summary>
    /// Winograd F(4x4, 3x3) in the blocked channel layout (16 channels of a tile position per vector), converted in and out
    /// per call: Winograd's geometries and its results bit for bit; 512-bit vectors only. Faster per layer in <c>bench conv</c>,
    /// slower in whole networks, so the device never chooses it (ConvPlan has the figures); forced, it computes the
    /// forward and the input gradient.
    /// </summary>
    BlockedWinograd,
}
