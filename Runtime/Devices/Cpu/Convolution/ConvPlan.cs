namespace Dsl.Devices.Cpu.Convolution;

/// <summary>
/// The integers a CPU convolution works with, derived once from a <see cref="Conv2dGeometry"/> and checked:
/// per-group sizes, the im2col row count and the chunk of samples whose columns fit the workspace budget.
/// </summary>
internal readonly struct ConvPlan
{
    public ConvPlan(in Conv2dGeometry g, long columnBudget)
    {
        G = g;
        OutHeight = g.OutHeight;
        OutWidth = g.OutWidth;
        Positions = OutHeight * OutWidth;
        Plane = g.Height * g.Width;
        KernelArea = g.KernelH * g.KernelW;
        GroupInChannels = g.InChannels / g.Groups;
        GroupOutChannels = g.OutChannels / g.Groups;
        GroupRows = GroupInChannels * KernelArea;
        Rows = g.InChannels * KernelArea;
        Pointwise = g.KernelH == 1 && g.KernelW == 1 && g.StrideH == 1 && g.StrideW == 1
            && g.PadTop == 0 && g.PadLeft == 0 && g.PadBottom == 0 && g.PadRight == 0;
        long perSample = Math.Max(1L, (long)Rows * Positions);
        ChunkSamples = (int)Math.Clamp(columnBudget / perSample, 1L, g.Batch);
    }

    public Conv2dGeometry G { get; }
    public int OutHeight { get; }
    public int OutWidth { get; }
    /// <summary>OH*OW.</summary>
    public int Positions { get; }
    /// <summary>H*W.</summary>
    public int Plane { get; }
    /// <summary>KH*KW.</summary>
    public int KernelArea { get; }
    public int GroupInChannels { get; }
    public int GroupOutChannels { get; }
    /// <summary>Rows of one group's column matrix: C/G*KH*KW (the GEMM's shared dimension).</summary>
    public int GroupRows { get; }
    /// <summary>Rows of the whole column matrix: C*KH*KW.</summary>
    public int Rows { get; }
    /// <summary>A 1x1, stride-1, unpadded convolution: each column row is an input plane.</summary>
    public bool Pointwise { get; }
    /// <summary>How many samples one pass puts side by side in the column matrix.</summary>
    public int ChunkSamples { get; }

    /// <summary>
    /// The forward algorithm for <paramref name="g"/>: the one place the choice is made. It is a pure function of the
    /// geometry (no state to warm or to cache), so a layer gets the same kernel, hence the same sums, on every call.
    /// </summary>
    /// <remarks>
    /// Thresholds from <c>bench conv</c> (ResNet-20 and DenseNet layers, batch 64, 1 and 2 threads, 256-bit kernels):
    /// the direct 3x3 kernel beat im2col + GEMM by 1.05-1.6x on every 3x3 "same" layer with 16 or more input channels,
    /// and lost on DenseNet's 1-channel stem (9 taps per tile do not pay for the padded copy), so it needs
    /// <see cref="Direct3x3MinInChannels"/>.
    /// </remarks>
    public static ConvAlgorithm Choose(in Conv2dGeometry g)
    {
        if (DirectConv1d.Applies(g))
        {
            return ConvAlgorithm.DirectConv1d;
        }
        if (DirectConv2d.Applies(g) && g.InChannels >= Direct3x3MinInChannels)
        {
            return ConvAlgorithm.Direct3x3;
        }
        return ConvAlgorithm.Im2ColGemm;
    }

    /// <summary>Fewest input channels for which the direct 3x3 kernel is chosen (from <c>bench conv</c>).</summary>
    public const int Direct3x3MinInChannels = 8;

    /// <summary>
    /// The weight-gradient algorithm for <paramref name="g"/> with GEMM kernels <paramref name="kind"/>: a pure function
    /// of both, like <see cref="Choose"/>.
    /// </summary>
    /// <remarks>
    /// The direct 3x3 reduction is measured against im2col + GEMM only with 256-bit kernels (<c>bench conv</c>); with
    /// AVX-512 the GEMM path's 512-bit dot products (<see cref="Gemm.DotGemm"/>) stay until it is measured there.
    /// </remarks>
    public static WeightGradientAlgorithm ChooseWeightGradient(in Conv2dGeometry g, Gemm.GemmKernel kind) =>
        kind == Gemm.GemmKernel.Vector256 && WeightGradient3x3.Applies(g) ? WeightGradientAlgorithm.Direct3x3 : WeightGradientAlgorithm.Im2ColGemm;

    /// <summary>Whether <paramref name="algorithm"/> can compute the weight gradient of <paramref name="g"/>.</summary>
    public static bool SupportsWeightGradient(WeightGradientAlgorithm algorithm, in Conv2dGeometry g) => algorithm switch
    {
        WeightGradientAlgorithm.Im2ColGemm => true,
        WeightGradientAlgorithm.Direct3x3 => WeightGradient3x3.Applies(g),
        _ => throw new ArgumentOutOfRangeException(nameof(algorithm), algorithm, "unknown weight-gradient algorithm"),
    };

    /// <summary>Whether <paramref name="algorithm"/> can compute <paramref name="g"/> at all (the benchmark and tests force each candidate).</summary>
    public static bool Supports(ConvAlgorithm algorithm, in Conv2dGeometry g) => algorithm switch
    {
        ConvAlgorithm.Im2ColGemm => true,
        ConvAlgorithm.DirectConv1d => DirectConv1d.Applies(g),
        ConvAlgorithm.Direct3x3 => DirectConv2d.Applies(g),
        _ => throw new ArgumentOutOfRangeException(nameof(algorithm), algorithm, "unknown convolution algorithm"),
    };
}
