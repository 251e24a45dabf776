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
    /// The forward algorithm for <paramref name="g"/> on GEMM kernels <paramref name="kind"/> (the machine's vector width):
    /// the one place the choice is made. It is a pure function of the geometry and the width (no state to warm or to
    /// cache), so a layer gets the same kernel, hence the same sums, on every call. The forward algorithm also computes
    /// the input gradient where it has a kernel for it (Winograd, the direct kernels), so each line below weighs both.
    /// </summary>
    /// <remarks>
    /// <para>256-bit kernels. Thresholds from <c>bench conv</c> (ResNet-20 and DenseNet layers, batch 64, 1 and 2 threads):
    /// the direct 3x3 kernel beat im2col + GEMM by 1.05-1.6x on every 3x3 "same" layer with 16 or more input channels,
    /// and lost on DenseNet's 1-channel stem (9 taps per tile do not pay for the padded copy), so it needs
    /// <see cref="Direct3x3MinInChannels"/>.
    /// Winograd F(4x4, 3x3) (<see cref="WinogradConv"/>) against the direct 3x3 kernel, forward, batch 64, two threads,
    /// three runs on a loaded 2-core AVX2 machine (ratios of the two, timed alternately in one run): ResNet-20's
    /// 16-channel 28x28 layer 0.55-0.84x the direct kernel's time, 32-channel 14x14 0.55-0.62x, 64-channel 7x7 0.47-0.51x;
    /// DenseNet's 48-to-12-channel layers 0.66-0.81x at 28x28, 0.74-1.18x at 14x14 and 0.9-1.5x at 7x7. Below 16 input
    /// channels the tile transforms cost more than the multiplies saved, so it needs <see cref="WinogradMinInChannels"/>
    /// and <see cref="WinogradMinOutChannels"/>; it is taken for padding 1 only (the "same" layers measured). Its rounding
    /// error is 6-8x the direct kernel's (relative 3e-6 to 1e-5 of the output's magnitude at 16 to 256 channels, see
    /// WinogradConvTests), well inside float32 training noise. At batch 1 (two runs) it was 0.35-0.6x at 28x28 (49 tiles),
    /// 0.95-1.35x at 14x14 (16 tiles) and 1.2-1.8x at 7x7 (4 tiles: half a vector of tiles, one thread busy), hence
    /// <see cref="WinogradMinTiles"/>.</para>
    /// <para>512-bit kernels: the GEMM (hence im2col + GEMM) runs twice as wide, while the direct 3x3 and general direct
    /// kernels stay 256-bit; see <see cref="ChooseWide"/>.</para>
    /// </remarks>
    public static ConvAlgorithm Choose(in Conv2dGeometry g, Gemm.GemmKernel kind)
    {
        if (DirectConv1d.Applies(g))
        {
            return ConvAlgorithm.DirectConv1d;
        }
        return kind switch
        {
            Gemm.GemmKernel.Vector512 => ChooseWide(g),
            Gemm.GemmKernel.Vector256 or Gemm.GemmKernel.Scalar => ChooseNarrow(g),
            _ => throw new ArgumentOutOfRangeException(nameof(kind), kind, "unknown GEMM kernel"),
        };
    }

    private static ConvAlgorithm ChooseNarrow(in Conv2dGeometry g)
    {
        if (WinogradPays(g, WinogradMinTiles))
        {
            return ConvAlgorithm.Winograd;
        }
        if (DirectConv2d.Applies(g) && g.InChannels >= Direct3x3MinInChannels)
        {
            return ConvAlgorithm.Direct3x3;
        }
        if (DirectConvKxK.Applies(g) && DirectKxKPays(g))
        {
            return ConvAlgorithm.DirectKxK;
        }
        return ConvAlgorithm.Im2ColGemm;
    }

    /// <summary>
    /// The forward algorithm with 512-bit GEMM kernels: Winograd where it pays, then the blocked-layout direct kernel where
    /// it pays (<see cref="BlockedPays"/>), else im2col + GEMM. The direct 3x3 and the general direct kernel (256-bit tiles)
    /// are never taken.
    /// </summary>
    /// <remarks>
    /// <c>bench conv --threads 1,2 --batch-sizes 64,1</c> and <c>--batch-sizes 1,2</c> on a 2-core AVX-512 machine (load
    /// average 0.6-8 from other processes, so ratios of candidates timed alternately in one run; one thread unless said):
    /// <list type="bullet">
    /// <item>The direct 3x3 kernel's forward took 1.6-2.2x im2col + GEMM's time on ResNet-20's and DenseNet's 3x3 "same"
    /// layers at batch 64 (1.13x on DenseNet's 48-channel 7x7 layer) and 1.4-2.0x at batch 1 and 2; with its own input
    /// gradient, forward plus backward still lost (1.1-1.5x) except on that 7x7 layer, where Winograd is faster still.</item>
    /// <item>The general direct kernel: ResNet-20's stride-2 3x3 layers 1.0-1.5x im2col's time forward and 1.1-1.4x
    /// backward (batch 64 and 1, one and two threads), TwoConv's 32-channel 5x5 layer 1.9x forward, 1x1 and few-channel
    /// 5x5 layers 1.6-3.4x.</item>
    /// <item>Winograd against im2col + GEMM, batch 64: forward 0.74-0.98x the time (ResNet-20 16-channel 28x28 0.98x,
    /// 32-channel 14x14 0.83x, 64-channel 7x7 0.86x; DenseNet's 48-to-12 layers 0.81x, 0.96x, 0.74x), and its input
    /// gradient made the backward 0.54-0.86x; two threads 0.76-1.02x forward. With few tiles the 512-bit GEMM wins: at
    /// batch 2 ResNet-20's 32-channel 14x14 layer (32 tiles) took 1.6x im2col's time forward and 1.1x backward, DenseNet's
    /// 14x14 layer (32 tiles) 1.2x forward, 0.9x backward; at 49 tiles (one 28x28 plane) forward was 0.9-1.1x and forward
    /// plus backward 0.7-0.85x, hence <see cref="WinogradMinTiles512"/>.</item>
    /// <item>Winograd in the blocked layout (<see cref="BlockedWinograd"/>: the same sums, each call converting its input and
    /// output) is never taken. Per layer it won: ResNet-20's 3x3 layers, batch 64, two threads, 0.79 ms against 0.83
    /// (16 channels, 28x28), 0.58 against 0.72 (32, 14x14), 0.53 against 0.58 (64, 7x7); batch 16 and 4 0.44-0.94x the time.
    /// But in ResNet-20's training step and evaluation (both builds loaded in one process and alternated, 6 rounds, either
    /// build first) it lost: with every 16-channel-and-up layer on it 0.96x training and 0.97x evaluation (0.87x and 0.86x
    /// before its transforms stopped zeroing a stackalloc per tile), with the 32- and 64-channel layers only 0.94-0.96x
    /// training and 0.96-1.05x evaluation, so the per-layer figures (one input and one set of weights, called again and
    /// again) do not carry over. In <c>perf</c> of the training step with it, the conversions' 16x16 transposes took 14% of
    /// the samples (2% without it) and repacking each step's new weights 2%. Without the conversions (a timing build) it
    /// took 0.90x, 0.70x and 0.71x Winograd's time on those three layers in <c>bench conv</c>; but an experiment build that
    /// kept the layout between ResNet-20's convolutions in evaluation (converting back only where another operation read a
    /// value) measured 0.98-1.00x Winograd's evaluation, and training lost 10% to the conversions back before batch norm.</item>
    /// </list>
    /// </remarks>
    private static ConvAlgorithm ChooseWide(in Conv2dGeometry g) =>
        WinogradPays(g, WinogradMinTiles512) ? ConvAlgorithm.Winograd
        : BlockedPays(g) ? ConvAlgorithm.Blocked
        : ConvAlgorithm.Im2ColGemm;

    /// <summary>
    /// Where the blocked-layout direct kernel (<see cref="BlockedConv"/>, converting its input and output per call) beat
    /// im2col + GEMM and Winograd in <c>bench conv --threads 2</c> (candidates alternating, median of 5):
    /// <list type="bullet">
    /// <item>TwoConv's 32-to-64-channel 5x5 "same" layer, batch 64: forward 3.39 ms against im2col + GEMM's 4.21 (1.24x),
    /// forward-and-backward (its own input gradient) 7.32 against 8.20; batch 16 0.95 against 1.13, batch 4 0.31 against 0.52.
    /// The transfer-learning network's unpadded 16-to-32-channel 5x5 layer (12x12 to 8x8): 0.35 against 0.43.</item>
    /// <item>ResNet-20's stride-2 3x3 layers, batch 64: 0.43 ms against 0.55 (16 to 32 channels) and 0.38 against 0.56 (32 to 64);
    /// batch 16 0.12 against 0.14 and 0.13 against 0.17; batch 4 0.042 against 0.049 and 0.059 against 0.065. At batch 1
    /// (one sample: one thread, and the weights packed for it alone) it lost, 0.021 against 0.017 and 0.040 against 0.027,
    /// hence <see cref="BlockedMinBatch"/>. Their input gradients stay im2col + GEMM's (the kernel has none for strides).</item>
    /// <item>It lost where Winograd applies (ResNet-20's 32- and 64-channel 3x3 layers 0.66 and 0.70 ms against 0.50 and
    /// 0.55; a tie on the 16-channel 28x28 layer, 1.07 against 1.06), on 1x1 projections (0.114 against 0.090 ms: 16
    /// multiply-adds per pixel and block do not pay for converting the input), on DenseNet's 1x1 layers forward
    /// (1.36 against 0.98 ms) and on 1-channel stems (15 of every 16 input lanes are padding).</item>
    /// </list>
    /// </summary>
    private static bool BlockedPays(in Conv2dGeometry g) =>
        BlockedConv.Applies(g) && g.Batch >= BlockedMinBatch && g.InChannels >= BlockedMinInChannels && g is { DilationH: 1, DilationW: 1 }
        && (g is { KernelH: 5, KernelW: 5, StrideH: 1, StrideW: 1 } || g is { KernelH: 3, KernelW: 3, StrideH: 2, StrideW: 2 });

    /// <summary>
    /// The algorithm that computes the input gradient of <paramref name="g"/>: the forward algorithm's own kernel where it has
    /// one, except with 512-bit kernels, where the blocked kernel's input gradient is taken exactly where
    /// <see cref="BlockedInputGradientPays"/>: also for 1x1 stride-1 layers whose forward stays im2col + GEMM (the packed GEMM
    /// reads their planes in place), and not for blocked layers whose input gradient would cost more than their forward
    /// (im2col + GEMM computes it then). A pure function of both, like <see cref="Choose"/>; the algorithm returned may have no
    /// input gradient of its own (a strided blocked layer's: im2col + GEMM computes it).
    /// </summary>
    public static ConvAlgorithm ChooseInputGradient(in Conv2dGeometry g, Gemm.GemmKernel kind)
    {
        var forward = Choose(g, kind);
        if (kind != Gemm.GemmKernel.Vector512)
        {
            return forward;
        }
        if (forward == ConvAlgorithm.Im2ColGemm && g is { KernelH: 1, KernelW: 1 } && BlockedInputGradientPays(g))
        {
            return ConvAlgorithm.Blocked;
        }
        if (forward == ConvAlgorithm.Blocked && BlockedConv.HasInputGradient(g) && !BlockedInputGradientPays(g))
        {
            return ConvAlgorithm.Im2ColGemm;
        }
        return forward;
    }

    /// <summary>
    /// Where the blocked kernel's input gradient beat im2col + GEMM's in <c>bench conv --threads 2</c>, batch 64 (candidates
    /// alternating, median of 5; dx and dW, dW the same implicit GEMM in both):
    /// <list type="bullet">
    /// <item>DenseNet-BC's 1x1 layers: 2.64 ms against 3.50 (60 to 48 channels, 28x28), 2.98 against 3.30 (the 72-to-36
    /// transition), 0.64 against 0.77 (72 to 48, 14x14), 0.20 against 0.27 (78 to 48, 7x7): im2col + GEMM's input gradient
    /// copies dy into a chunk's columns and scatters the product back into dx, two passes over tensors the blocked kernel
    /// converts in registers. Forward the GEMM on the planes in place stays faster (0.98 ms against 1.36 at 28x28).</item>
    /// <item>TwoConv's 5x5 "same" layer: 7.32 against 8.20 (with the blocked forward's figures in <see cref="BlockedPays"/>).</item>
    /// <item>It lost on the unpadded 5x5 layer of the transfer-learning network (16 to 32 channels, 12x12 to 8x8): 1.30 ms
    /// against 0.98, though its forward won (0.35 against 0.43). Its input gradient pads the 8x8 dy by 4 and computes all
    /// 12x12 outputs from every tap: 2.25x the forward's multiply-adds, mostly on zeros. Hence an input gradient no larger
    /// than the output.</item>
    /// </list>
    /// </summary>
    private static bool BlockedInputGradientPays(in Conv2dGeometry g) =>
        BlockedConv.HasInputGradient(g) && g.Batch >= BlockedMinBatch && g.InChannels >= BlockedMinInChannels
        && g.OutChannels >= BlockedMinInChannels && (long)g.Height * g.Width <= (long)g.OutHeight * g.OutWidth;

    /// <summary>Fewest samples for which the blocked kernel is chosen: it splits the batch over the threads (from <c>bench conv</c>).</summary>
    public const int BlockedMinBatch = 4;

    /// <summary>Fewest input channels for which the blocked kernel is chosen: one whole block (from <c>bench conv</c>).</summary>
    public const int BlockedMinInChannels = 16;

    private static bool WinogradPays(in Conv2dGeometry g, int minTiles) =>
        DirectConv2d.Applies(g) && WinogradConv.Applies(g) && g.InChannels >= WinogradMinInChannels && g.OutChannels >= WinogradMinOutChannels
        && new WinogradConv.Layout(g).Tiles >= minTiles;

    /// <summary>
    /// Where the general direct kernel beat im2col + GEMM in <c>bench conv</c> (2 threads, batch 64 and 1, measured under
    /// heavy load from other processes, so ratios of candidates alternating in one run): ResNet-20's stride-2 3x3 layers
    /// 1.0-1.5x forward (dx about even), TwoConv's 32-channel 5x5 layer 1.05-1.2x. It lost on 1-channel stems and 5x5
    /// layers (0.5-0.9x: a tile of 1 channel's 9-25 taps does not pay for the padded copy and the 12 stores) and on 1x1
    /// layers (0.4-0.6x: 1 tap per channel leaves the tile's 12 stores and the copy of the subsampled input against
    /// 12 FMAs per channel, where the GEMM's packed strips reuse each load more), so those stay im2col + GEMM.
    /// </summary>
    private static bool DirectKxKPays(in Conv2dGeometry g) =>
        g.InChannels >= DirectKxKMinInChannels && g.KernelH >= 3 && g.KernelW >= 3
        && (g.StrideH == 2 || g.StrideW == 2 || (g.KernelH >= 5 && g.KernelW >= 5));

    /// <summary>Fewest input channels for which the general direct kernel is chosen (from <c>bench conv</c>).</summary>
    public const int DirectKxKMinInChannels = 16;

    /// <summary>Fewest input channels for which the direct 3x3 kernel is chosen (from <c>bench conv</c>).</summary>
    public const int Direct3x3MinInChannels = 8;

    /// <summary>Fewest input channels for which Winograd is chosen over the direct 3x3 kernel (from <c>bench conv</c>).</summary>
    public const int WinogradMinInChannels = 16;

    /// <summary>Fewest output channels for which Winograd is chosen (DenseNet's growth of 12 still gains at 14x14 and up).</summary>
    public const int WinogradMinOutChannels = 12;

    /// <summary>Fewest 4x4 output tiles in the whole batch for which Winograd is chosen with 256-bit GEMM kernels (from <c>bench conv --batch-sizes 1</c>).</summary>
    public const int WinogradMinTiles = 32;

    /// <summary>
    /// Fewest 4x4 output tiles in the whole batch for which Winograd is chosen with 512-bit GEMM kernels (from
    /// <c>bench conv --batch-sizes 1,2</c>: 32 tiles lost to im2col + GEMM, 49 won; see <see cref="ChooseWide"/>).
    /// </summary>
    public const int WinogradMinTiles512 = 48;

    /// <summary>
    /// The weight-gradient algorithm for <paramref name="g"/> with GEMM kernels <paramref name="kind"/>: a pure function
    /// of both, like <see cref="Choose"/>.
    /// </summary>
    /// <remarks>
    /// 256-bit kernels: the direct 3x3 reduction beat im2col + GEMM on every 3x3 "same" layer in <c>bench conv</c>.
    /// <para>512-bit kernels, kernels up to 3 wide at any stride: the implicit GEMM <see cref="WeightGradientImplicitGemm"/>
    /// (up to 24 accumulators of 16 output channels per tile). <c>bench conv --threads 1,2 --batch-sizes 64 --layers resnet</c>
    /// and <c>--layers densenet</c> (two runs each on a heavily loaded 2-core AVX-512 machine, load average 6-9; candidates
    /// alternating; its time over the fastest other candidate's): one thread, ResNet-20's 3x3 stride-1 layers 0.71-0.86x
    /// (98-183 GFLOP/s), its stride-2 3x3 layers 0.48-0.55x and stride-2 1x1 projections 0.51-0.60x (against im2col +
    /// GEMM); DenseNet's 1x1 layers 0.35-0.92x and 48-to-12-channel 3x3 layers 0.64-1.18x (12 of 16 lanes count). Two
    /// threads: 0.46-0.96x on ResNet-20's 3x3 layers (even on the 32-channel stride-2 one), 0.45-1.11x on DenseNet's; the
    /// projections (2 and 6 items for two threads, 0.1-0.6 ms) went 0.70-1.52x, left to it for one rule. Its 1-channel
    /// stems, once left to im2col + GEMM, are faster with it too since the threads split the batch's chunks (three runs,
    /// batch 64: ResNet-20's 0.11-0.13 ms against 0.18-0.19 on two threads, 0.21-0.29 against 0.31-0.36 on one; DenseNet's
    /// 0.20-0.21 against 0.23-0.26 and 0.39-0.51 against 0.45-0.50).
    /// Before it, the direct 3x3 reduction (4-channel tiles) and the outer-product reduction (<see cref="WeightGradientKxK"/>,
    /// one kernel row per tile: 3 accumulators at 16 output channels) ran these layers at 40-150 GFLOP/s, and strided
    /// layers took im2col + GEMM's dot products.</para>
    /// <para>Stride-1 kernels 4 and 5 wide: the implicit GEMM as well (TwoConv's, MnistNet's and LeNet-5's 5x5 layers, two
    /// runs of <c>bench conv --threads 2</c>, batch 64, then one on one thread): TwoConv's 1-channel stem 0.37-0.41 ms
    /// against im2col + GEMM's 0.65-0.66 (0.66 against 1.06 on one thread), its 32-channel layer 4.1-4.3 ms against the
    /// direct reduction's 4.2-4.3 (7.2 against 8.0), MnistNet's 10-channel layer 0.20 against im2col's 0.35-0.36 and
    /// LeNet-5's 6-channel one 0.10-0.11 against the direct reduction's 0.20-0.23, MnistNet's 1-channel stem 0.16-0.17
    /// against 0.21 (0.24 against 0.34 on one thread); LeNet-5's stem (6 output channels) ties, 0.18-0.19 against 0.18 (0.32
    /// against 0.30 on one thread). Strided kernels wider than 3 were not measured and keep the rules below.</para>
    /// <para>Earlier, for the stride-1 kernels up to 7 wide (TwoConv's, MnistNet's and LeNet-5's 5x5 layers): the direct reduction
    /// <see cref="WeightGradientKxK"/> against im2col + GEMM, batch 64, <c>bench conv</c> on a loaded 2-core AVX-512 machine
    /// (ratios of the two timed alternately in one run, two runs): with 512-bit kernels TwoConv's 32-channel 14x14 layer
    /// 2.9-3.2x faster on one and two threads, LeNet-5's 6-channel unpadded 14x14 layer 1.0-1.45x; it lost on MnistNet's
    /// 10-channel unpadded layer (0.6-0.85x: 20 output channels fill 20 of 32 lanes and 8 of the 12 positions per row are
    /// outputs, so 42% of its multiply-adds count), hence <see cref="WeightGradientKxKMinUsefulShare"/>, and on TwoConv's
    /// 1-channel stem with two threads (0.5-0.8x: 5 items, one per kernel row, for two threads), hence
    /// <see cref="WeightGradientKxKMinInChannels"/>. With 256-bit kernels (10 accumulators against the packed GEMM's
    /// 256-bit tiles) it lost 0.9x on TwoConv's 32-channel layer and 0.75x on MnistNet's, so it is taken with 512-bit
    /// kernels only.</para>
    /// </remarks>
    public static WeightGradientAlgorithm ChooseWeightGradient(in Conv2dGeometry g, Gemm.GemmKernel kind) => kind switch
    {
        Gemm.GemmKernel.Vector256 when WeightGradient3x3.Applies(g) => WeightGradientAlgorithm.Direct3x3,
        Gemm.GemmKernel.Vector512 when WeightGradientImplicitGemm.Applies(g) && (g.KernelW <= 3 || g is { StrideH: 1, StrideW: 1 }) => WeightGradientAlgorithm.ImplicitGemm,
        Gemm.GemmKernel.Vector512 when WeightGradientKxKPays(g) => WeightGradientAlgorithm.DirectKxK,
        Gemm.GemmKernel.Vector256 or Gemm.GemmKernel.Vector512 or Gemm.GemmKernel.Scalar => WeightGradientAlgorithm.Im2ColGemm,
        _ => throw new ArgumentOutOfRangeException(nameof(kind), kind, "unknown GEMM kernel"),
    };

    private static bool WeightGradientKxKPays(in Conv2dGeometry g) =>
        WeightGradientKxK.Applies(g) && g.KernelH >= 5 && g.KernelW >= 5 && g.InChannels >= WeightGradientKxKMinInChannels
        && new WeightGradientKxK.Layout(g, Gemm.GemmKernel.Vector512).UsefulShare >= WeightGradientKxKMinUsefulShare;

    /// <summary>Fewest input channels for which the direct weight gradient of 5x5-and-wider kernels is chosen (from <c>bench conv</c>).</summary>
    public const int WeightGradientKxKMinInChannels = 2;

    /// <summary>
    /// Least share of the direct weight gradient's multiply-adds that count (<see cref="WeightGradientKxK.Layout.UsefulShare"/>)
    /// for which it is chosen: LeNet-5's 0.71 won, MnistNet's 0.42 lost (from <c>bench conv</c>).
    /// </summary>
    public const double WeightGradientKxKMinUsefulShare = 0.5;

    /// <summary>Whether <paramref name="algorithm"/> can compute the weight gradient of <paramref name="g"/>.</summary>
    public static bool SupportsWeightGradient(WeightGradientAlgorithm algorithm, in Conv2dGeometry g) => algorithm switch
    {
        WeightGradientAlgorithm.Im2ColGemm => true,
        WeightGradientAlgorithm.Direct3x3 => WeightGradient3x3.Applies(g),
        WeightGradientAlgorithm.DirectKxK => WeightGradientKxK.Applies(g),
        WeightGradientAlgorithm.ImplicitGemm => WeightGradientImplicitGemm.Applies(g),
        _ => throw new ArgumentOutOfRangeException(nameof(algorithm), algorithm, "unknown weight-gradient algorithm"),
    };

    /// <summary>Whether <paramref name="algorithm"/> can compute <paramref name="g"/> at all (the benchmark and tests force each candidate).</summary>
    public static bool Supports(ConvAlgorithm algorithm, in Conv2dGeometry g) => algorithm switch
    {
        ConvAlgorithm.Im2ColGemm => true,
        ConvAlgorithm.DirectConv1d => DirectConv1d.Applies(g),
        ConvAlgorithm.Direct3x3 => DirectConv2d.Applies(g),
        ConvAlgorithm.DirectKxK => DirectConvKxK.Applies(g),
        ConvAlgorithm.Winograd => WinogradConv.Applies(g),
        ConvAlgorithm.Blocked => BlockedConv.Applies(g),
        ConvAlgorithm.BlockedWinograd => BlockedWinograd.Applies(g),
        _ => throw new ArgumentOutOfRangeException(nameof(algorithm), algorithm, "unknown convolution algorithm"),
    };
}
