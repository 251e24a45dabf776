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
}
