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

    /// <summary>Throws with a message naming the first inconsistency between the geometry and the tensors.</summary>
    public static void Validate(in Conv2dGeometry g, Tensor x, Tensor w, Tensor? b, Tensor y, string op, string yName, string bName = "bias")
    {
        if (g.Batch < 1 || g.InChannels < 1 || g.Height < 1 || g.Width < 1 || g.OutChannels < 1 || g.KernelH < 1 || g.KernelW < 1)
        {
            throw new ArgumentException($"{op}: sizes must be positive, got {g}.");
        }
        if (g.StrideH < 1 || g.StrideW < 1 || g.DilationH < 1 || g.DilationW < 1)
        {
            throw new ArgumentException($"{op}: stride and dilation must be at least 1, got {g}.");
        }
        if (g.PadTop < 0 || g.PadLeft < 0 || g.PadBottom < 0 || g.PadRight < 0)
        {
            throw new ArgumentException($"{op}: padding must not be negative, got {g}.");
        }
        if (g.Groups < 1 || g.InChannels % g.Groups != 0 || g.OutChannels % g.Groups != 0)
        {
            throw new ArgumentException($"{op}: groups={g.Groups} must divide in_channels={g.InChannels} and out_channels={g.OutChannels}.");
        }
        if (g.Height + g.PadTop + g.PadBottom < g.DilationH * (g.KernelH - 1) + 1
            || g.Width + g.PadLeft + g.PadRight < g.DilationW * (g.KernelW - 1) + 1)
        {
            throw new ArgumentException(
                $"{op}: the padded input {g.Height + g.PadTop + g.PadBottom}x{g.Width + g.PadLeft + g.PadRight} is smaller than the dilated kernel "
                + $"{g.DilationH * (g.KernelH - 1) + 1}x{g.DilationW * (g.KernelW - 1) + 1}.");
        }
        Expect(x, g.InputLength, op, "x", g.Batch, g.InChannels, g.Height, g.Width);
        Expect(w, g.WeightLength, op, "weight", g.OutChannels, g.InChannels / g.Groups, g.KernelH, g.KernelW);
        if (b is not null)
        {
            Expect(b, g.OutChannels, op, bName, g.OutChannels);
        }
        Expect(y, g.OutputLength, op, yName, g.Batch, g.OutChannels, g.OutHeight, g.OutWidth);
    }

    /// <summary>Requires <paramref name="t"/> to hold exactly <paramref name="length"/> elements.</summary>
    public static void Expect(Tensor t, long length, string op, string what, params ReadOnlySpan<int> shape)
    {
        if (t.Length != length)
        {
            throw new ArgumentException($"{op}: {what} should be {Tensor.FormatShape(shape)} ({length} elements) but is {t} ({t.Length} elements).");
        }
    }
}
