namespace Dsl;

/// <summary>
/// One layer-direction of a recurrent layer over a batch-first sequence: x [Batch, Time, InputSize] -> outputs
/// [Batch, Time, HiddenSize], written into columns <see cref="OutputOffset"/>.. of an output whose rows are
/// <see cref="OutputStride"/> wide, so the two directions of a bidirectional layer fill the halves of [N, T, 2H].
/// Weights as PyTorch: weight_ih [Gates*H, InputSize], weight_hh [Gates*H, H], biases [Gates*H].
/// </summary>
public readonly record struct RecurrentGeometry(
    RecurrentKind Kind, int Batch, int Time, int InputSize, int HiddenSize,
    bool Reverse = false, int OutputStride = 0, int OutputOffset = 0)
{
    /// <summary>The width of an output row: <see cref="OutputStride"/>, or H when it is 0.</summary>
    public int RowWidth => OutputStride == 0 ? HiddenSize : OutputStride;

    /// <summary>Gates * H, the rows of both weight matrices.</summary>
    public int GateWidth => SequenceMath.Gates(Kind) * HiddenSize;

    /// <summary>Throws with a message naming <paramref name="op"/> and the first rule this geometry breaks.</summary>
    public void Validate(string op)
    {
        if (Kind < RecurrentKind.RnnTanh || Kind > RecurrentKind.Gru)
        {
            throw new ArgumentException($"{op}: unknown recurrent cell {Kind}.");
        }
        if (Batch < 0 || Time < 0 || InputSize < 1 || HiddenSize < 1)
        {
            throw new ArgumentException($"{op}: the batch and time must not be negative and the input and hidden sizes must be positive, got {this}.");
        }
        if (OutputStride < 0 || OutputOffset < 0 || OutputOffset + HiddenSize > RowWidth)
        {
            throw new ArgumentException($"{op}: columns {OutputOffset}..{OutputOffset + HiddenSize - 1} do not fit output rows of {RowWidth}, got {this}.");
        }
        if ((long)Batch * Time * Math.Max(Math.Max(InputSize, RowWidth), 4 * HiddenSize) > int.MaxValue)
        {
            throw new ArgumentException($"{op}: {this} has more than 2^31 elements in one tensor.");
        }
    }
}

/// <summary>
/// The caller-provided workspace of one recurrent layer-direction: the forward saves into it what backward reads
/// (input projections, gate activations, previous states), and backward uses the rest as scratch, so generated code
/// plans one float32 buffer of <see cref="Size(in RecurrentGeometry)"/> elements per layer-direction and nothing allocates per call.
/// </summary>
public static class RecurrentWorkspace
{
    /// <summary>The floats the workspace of <paramref name="g"/> needs.</summary>
    public static long Size(in RecurrentGeometry g) => Size(g.Kind, g.Batch, g.Time, g.HiddenSize);

    /// <summary>The floats the workspace of a <paramref name="kind"/> layer over [batch, time] with <paramref name="hidden"/> units needs.</summary>
    public static long Size(RecurrentKind kind, int batch, int time, int hidden)
    {
        var l = Layout.Of(kind, batch, time, hidden);
        return l.Total;
    }

    /// <summary>Offsets of the workspace's regions, in floats (one place, used by both devices).</summary>
    internal readonly record struct Layout(
        long Projections, long Saved, long PrevH, long PrevC, long HiddenGrad, long StepGates, long H, long C, long DH, long DC, long StepH, long Total)
    {
        /// <remarks>
        /// Projections [N*T, G*H]: x W_ih^T in the forward, the gate gradients (input side) in backward. Saved [N*T, S]
        /// (<see cref="SequenceMath.SavedWidth"/>). PrevH/PrevC [N*T, H]: the state each (sample, time) step started from.
        /// HiddenGrad [N*T, G*H]: the GRU's hidden-side gate gradients (its n gate differs from the input side; the other
        /// cells share Projections). StepGates [N, G*H], H, C, DH, DC, StepH [N, H]: one step's working rows.
        /// </remarks>
        public static Layout Of(RecurrentKind kind, int batch, int time, int hidden)
        {
            long nt = (long)batch * time;
            long gh = (long)SequenceMath.Gates(kind) * hidden;
            long at = 0;
            long Take(long n)
            {
                long start = at;
                at += n;
                return start;
            }
            long proj = Take(nt * gh);
            long saved = Take(nt * SequenceMath.SavedWidth(kind, hidden));
            long prevH = Take(nt * hidden);
            long prevC = Take(kind == RecurrentKind.Lstm ? nt * hidden : 0);
            long hiddenGrad = Take(kind == RecurrentKind.Gru ? nt * gh : 0);
            long step = Take(batch * gh);
            long h = Take((long)batch * hidden);
            long c = Take((long)batch * hidden);
            long dh = Take((long)batch * hidden);
            long dc = Take((long)batch * hidden);
            long stepH = Take((long)batch * hidden);
            return new Layout(proj, saved, prevH, prevC, kind == RecurrentKind.Gru ? hiddenGrad : proj, step, h, c, dh, dc, stepH, at);
        }
    }
}

/// <summary>
/// A 1-D convolution over x [N, C, L] (PyTorch's <c>nn.Conv1d</c>): weight [OutC, C/Groups, Kernel],
/// y [N, OutC, OutLength] with OutLength = floor((L + 2 Padding - Dilation (Kernel-1) - 1) / Stride) + 1.
/// It runs as the 2-D convolution of a 1-high image (<see cref="To2d"/>, the one place the two are mapped).
/// </summary>
public readonly record struct Conv1dGeometry(
    int Batch, int InChannels, int Length, int OutChannels, int Kernel,
    int Stride = 1, int Padding = 0, int Dilation = 1, int Groups = 1)
{
    public int OutLength => To2d().OutWidth;

    /// <summary>The same convolution as a <see cref="Conv2dGeometry"/> with H = KH = 1.</summary>
    public Conv2dGeometry To2d() => new(Batch, InChannels, 1, Length, OutChannels, 1, Kernel,
        StrideH: 1, StrideW: Stride, PadTop: 0, PadLeft: Padding, PadBottom: 0, PadRight: Padding, DilationH: 1, DilationW: Dilation, Groups: Groups);
}

/// <summary>
/// A 1-D pooling window over x [N, C, L] (PyTorch's <c>MaxPool1d</c>/<c>AvgPool1d</c>, ceil_mode off): OutLength =
/// floor((L + 2 Padding - Kernel) / Stride) + 1, run as the 2-D pool of a 1-high image (<see cref="To2d"/>).
/// </summary>
public readonly record struct Pool1dGeometry(int Batch, int Channels, int Length, int Kernel, int Stride, int Padding = 0)
{
    public int OutLength => To2d().OutWidth;

    /// <summary>The same window as a <see cref="Pool2dGeometry"/> with H = KH = 1.</summary>
    public Pool2dGeometry To2d() => new(Batch, Channels, 1, Length, 1, Kernel, 1, Stride, 0, Padding);
}
