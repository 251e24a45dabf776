namespace Dsl;

// Sequence kernels (issue 7): embeddings, 1-D convolution and pooling, pooling over time, recurrent layers, attention
// pooling and the reductions behind gradient clipping. Each public method validates once here and calls its backend core.
public abstract partial class Device
{
    // ------------------------------------------------------------------ embedding (Embedding.cs)

    /// <summary>
    /// y[p, :] = weight[ids[p], :] for every position p of int64 <paramref name="ids"/> (any shape, typically [N,T]):
    /// y is [ids..., D] from weight [num, D] (<c>nn.Embedding</c>). An id outside [0, num) is refused: the CPU throws at
    /// once naming the position; a GPU writes a zero row and records 1 + the first bad position in
    /// <paramref name="status"/>[0] (0 when all are valid; int32 [1]), which <see cref="ThrowIfEmbeddingFailed"/> reads.
    /// </summary>
    public void Embedding(Tensor ids, Tensor weight, Tensor y, Tensor status)
    {
        const string op = nameof(Embedding);
        int dim = EmbeddingOperands(ids, weight, y, op, "y");
        Operand(status, op, "status", DType.Int32);
        RequireLength(status, 1, op, "status");
        EmbeddingCore(ids, weight, y, status, weight.Dims[0], dim);
    }

    /// <summary>
    /// dweight[ids[p], :] += dy[p, :] (gradients of repeated ids add up); the row <paramref name="paddingIdx"/> (negative:
    /// none, as PyTorch's <c>padding_idx=None</c>) never receives gradient. Out-of-range ids are skipped on a GPU (the
    /// forward flagged them) and refused on the CPU.
    /// </summary>
    public void EmbeddingBackward(Tensor ids, Tensor dy, Tensor dweight, int paddingIdx)
    {
        const string op = nameof(EmbeddingBackward);
        int dim = EmbeddingOperands(ids, dweight, dy, op, "dy");
        if (paddingIdx >= dweight.Dims[0])
        {
            throw new ArgumentOutOfRangeException(nameof(paddingIdx), $"{op}: paddingIdx {paddingIdx} is outside the {dweight.Dims[0]} rows of the table.");
        }
        EmbeddingBackwardCore(ids, dy, dweight, dweight.Dims[0], dim, paddingIdx < 0 ? -1 : paddingIdx);
    }

    /// <summary>
    /// Reports an out-of-range id that a GPU <see cref="Embedding"/> recorded in <paramref name="status"/>. A device that
    /// queues its work (a GPU) does not wait for it here: it records the fault on the device, its optimiser steps leave
    /// the parameters unchanged while the fault is pending, and its next read (a loss, <see cref="Synchronize"/>, any
    /// download) throws this error (see <see cref="DeferEmbeddingCheck"/>). Otherwise one int is read and the error thrown at once.
    /// </summary>
    public void ThrowIfEmbeddingFailed(Tensor ids, Tensor weight, Tensor status)
    {
        if (DeferEmbeddingCheck(ids, weight, status))
        {
            return;
        }
        Span<int> s = stackalloc int[1];
        Download(status.Length == 1 ? status : status.Narrow(0, 0, 1), s);
        if (s[0] != 0)
        {
            Span<long> id = stackalloc long[1];
            Download(ids.View(-1).Narrow(0, s[0] - 1, 1), id);
            throw EmbeddingIdError(id[0], s[0] - 1, weight.Dims[0]);
        }
    }

    /// <summary>
    /// True when this device recorded the embedding check on the device instead of reading it now (a GPU: the fault
    /// travels with the queue and its next read throws <see cref="EmbeddingIdError"/>); false to read it at once.
    /// </summary>
    protected virtual bool DeferEmbeddingCheck(Tensor ids, Tensor weight, Tensor status) => false;

    /// <summary>The error for id <paramref name="id"/> at flat position <paramref name="position"/> outside a table of <paramref name="rows"/> rows.</summary>
    protected static ArgumentOutOfRangeException EmbeddingIdError(long id, long position, int rows)
        => new("ids", $"{nameof(Embedding)}: id {id} at position {position} is outside the {rows} rows of the table.");

    protected abstract void EmbeddingCore(Tensor ids, Tensor weight, Tensor y, Tensor status, int num, int dim);
    protected abstract void EmbeddingBackwardCore(Tensor ids, Tensor dy, Tensor dweight, int num, int dim, int paddingIdx);

    private int EmbeddingOperands(Tensor ids, Tensor weight, Tensor y, string op, string yName)
    {
        Operand(ids, op, "ids", DType.Int64);
        Operand(weight, op, "weight", DType.Float32);
        if (weight.Rank != 2 || weight.Dims[0] < 1 || weight.Dims[1] < 1)
        {
            throw new ArgumentException($"{op}: the table should be [num, dim] with both positive, got {weight}.");
        }
        int dim = weight.Dims[1];
        Operand(y, op, yName, DType.Float32);
        if (y.Length != ids.Length * dim)
        {
            throw new ArgumentException($"{op}: {yName} should hold {ids.Length} rows of {dim} ({ids.Length * dim} elements) for ids {Tensor.FormatShape(ids.Dims)}, but is {y}.");
        }
        return dim;
    }

    // ------------------------------------------------------------------ 1-D convolution and pooling (through the 2-D kernels)

    /// <summary>y = conv1d(x, w) + b over x [N,C,L], weight [OutC, C/Groups, K], y [N,OutC,OutL] (the 2-D kernels with H = 1).</summary>
    public void Conv1d(Tensor x, Tensor w, Tensor? b, Tensor y, in Conv1dGeometry g)
    {
        const string op = nameof(Conv1d);
        var g2 = g.To2d();
        g2.Validate(op);
        FloatOperand(x, g2.InputLength, op, "x", g.Batch, g.InChannels, g.Length);
        FloatOperand(w, g2.WeightLength, op, "weight", g.OutChannels, g.InChannels / g.Groups, g.Kernel);
        if (b is not null)
        {
            FloatOperand(b, g.OutChannels, op, "bias", g.OutChannels);
        }
        FloatOperand(y, g2.OutputLength, op, "y", g.Batch, g.OutChannels, g.OutLength);
        if (g.Batch > 0)
        {
            Conv2dCore(x, w, b, y, g2, relu: false);
        }
    }

    /// <summary>Gradients of <see cref="Conv1d"/>, as <see cref="Conv2dBackward"/>: dw and db accumulate, dx is overwritten or accumulated.</summary>
    public void Conv1dBackward(Tensor x, Tensor w, Tensor dy, Tensor? dx, Tensor dw, Tensor? db, in Conv1dGeometry g, bool accumulateDx)
    {
        const string op = nameof(Conv1dBackward);
        var g2 = g.To2d();
        g2.Validate(op);
        FloatOperand(x, g2.InputLength, op, "x", g.Batch, g.InChannels, g.Length);
        FloatOperand(w, g2.WeightLength, op, "weight", g.OutChannels, g.InChannels / g.Groups, g.Kernel);
        FloatOperand(dy, g2.OutputLength, op, "dy", g.Batch, g.OutChannels, g.OutLength);
        if (dx is not null)
        {
            FloatOperand(dx, g2.InputLength, op, "dx", g.Batch, g.InChannels, g.Length);
        }
        FloatOperand(dw, g2.WeightLength, op, "dw", g.OutChannels, g.InChannels / g.Groups, g.Kernel);
        if (db is not null)
        {
            FloatOperand(db, g.OutChannels, op, "db", g.OutChannels);
        }
        if (g.Batch > 0)
        {
            Conv2dBackwardCore(x, w, dy, dx, dw, db, g2, accumulateDx);
        }
    }

    /// <summary>Max pooling over x [N,C,L]; <paramref name="argmax"/> (int32 [N,C,OutL]) records each maximum's flat input index.</summary>
    public void MaxPool1d(Tensor x, Tensor y, Tensor argmax, in Pool1dGeometry g) => MaxPool2d(x, y, argmax, g.To2d());

    /// <summary>
    /// dx (+)= dy routed to the recorded maxima; with <paramref name="reluOutput"/> (the pool's output over a ReLU's) dy passes
    /// only where it is positive, the ReLU's backward (<see cref="MaxPool2dBackward"/>).
    /// </summary>
    public void MaxPool1dBackward(Tensor dy, Tensor argmax, Tensor dx, in Pool1dGeometry g, bool accumulate, Tensor? reluOutput = null)
        => MaxPool2dBackward(dy, argmax, dx, g.To2d(), accumulate, reluOutput);

    /// <summary>Average pooling over x [N,C,L]; with <paramref name="countIncludePad"/> (PyTorch's default) padding counts in the divisor.</summary>
    public void AvgPool1d(Tensor x, Tensor y, in Pool1dGeometry g, bool countIncludePad) => AvgPool2d(x, y, g.To2d(), countIncludePad);

    /// <summary>dx (+)= the gradient of <see cref="AvgPool1d"/>.</summary>
    public void AvgPool1dBackward(Tensor dy, Tensor dx, in Pool1dGeometry g, bool countIncludePad, bool accumulate)
        => AvgPool2dBackward(dy, dx, g.To2d(), countIncludePad, accumulate);

    // ------------------------------------------------------------------ pooling over time (SequencePool.cs)

    /// <summary>
    /// y[n,c] = max over t &lt; length[n] of x[n,c,t] for x [N,C,T] (all T steps without <paramref name="lengths"/>, int64 [N]);
    /// <paramref name="argmax"/> (int32 [N,C]) records the winning t, -1 for a fully padded row, whose y is 0. NaN wins, as in PyTorch.
    /// </summary>
    public void MaxOverTime(Tensor x, Tensor? lengths, Tensor y, Tensor argmax, int batch, int channels, int time)
    {
        const string op = nameof(MaxOverTime);
        OverTimeOperands(x, lengths, y, batch, channels, time, op, "x", "y");
        Operand(argmax, op, "argmax", DType.Int32);
        Expect(argmax, (long)batch * channels, op, "argmax", batch, channels);
        if (batch * channels > 0)
        {
            MaxOverTimeCore(x, lengths, y, argmax, batch, channels, time);
        }
    }

    /// <summary>dx (+)= dy[n,c] at the recorded t of each (n,c), 0 elsewhere.</summary>
    public void MaxOverTimeBackward(Tensor dy, Tensor argmax, Tensor dx, int batch, int channels, int time, bool accumulate)
    {
        const string op = nameof(MaxOverTimeBackward);
        OverTimeOperands(dx, null, dy, batch, channels, time, op, "dx", "dy");
        Operand(argmax, op, "argmax", DType.Int32);
        Expect(argmax, (long)batch * channels, op, "argmax", batch, channels);
        if ((long)batch * channels * time > 0)
        {
            MaxOverTimeBackwardCore(dy, argmax, dx, batch, channels, time, accumulate);
        }
    }

    /// <summary>y[n,c] = the mean of x[n,c,t] over t &lt; length[n] (0 for a fully padded row).</summary>
    public void MeanOverTime(Tensor x, Tensor? lengths, Tensor y, int batch, int channels, int time)
    {
        const string op = nameof(MeanOverTime);
        OverTimeOperands(x, lengths, y, batch, channels, time, op, "x", "y");
        if (batch * channels > 0)
        {
            MeanOverTimeCore(x, lengths, y, batch, channels, time);
        }
    }

    /// <summary>dx (+)= dy[n,c] / length[n] at valid steps, 0 at padding.</summary>
    public void MeanOverTimeBackward(Tensor dy, Tensor? lengths, Tensor dx, int batch, int channels, int time, bool accumulate)
    {
        const string op = nameof(MeanOverTimeBackward);
        OverTimeOperands(dx, lengths, dy, batch, channels, time, op, "dx", "dy");
        if ((long)batch * channels * time > 0)
        {
            MeanOverTimeBackwardCore(dy, lengths, dx, batch, channels, time, accumulate);
        }
    }

    protected abstract void MaxOverTimeCore(Tensor x, Tensor? lengths, Tensor y, Tensor argmax, int batch, int channels, int time);
    protected abstract void MaxOverTimeBackwardCore(Tensor dy, Tensor argmax, Tensor dx, int batch, int channels, int time, bool accumulate);
    protected abstract void MeanOverTimeCore(Tensor x, Tensor? lengths, Tensor y, int batch, int channels, int time);
    protected abstract void MeanOverTimeBackwardCore(Tensor dy, Tensor? lengths, Tensor dx, int batch, int channels, int time, bool accumulate);

    private void OverTimeOperands(Tensor x, Tensor? lengths, Tensor y, int batch, int channels, int time, string op, string xName, string yName)
    {
        if (batch < 0 || channels < 1 || time < 0)
        {
            throw new ArgumentException($"{op}: the batch and time must not be negative and channels must be positive, got [{batch},{channels},{time}].");
        }
        FloatOperand(x, (long)batch * channels * time, op, xName, batch, channels, time);
        FloatOperand(y, (long)batch * channels, op, yName, batch, channels);
        Lengths(lengths, batch, op);
    }

    private void Lengths(Tensor? lengths, int batch, string op)
    {
        if (lengths is not null)
        {
            Operand(lengths, op, "lengths", DType.Int64);
            Expect(lengths, batch, op, "lengths", batch);
        }
    }

    // ------------------------------------------------------------------ swapping two axes (through the strided copy)

    /// <summary>
    /// y (+)= x with two axes swapped: x is contiguous [outer, a, mid, b, inner] and y [outer, b, mid, a, inner]
    /// (<c>torch.transpose</c> of two dimensions, copied). The gather runs on the strided-copy kernels of both devices from a
    /// layout built here, so it allocates nothing; accumulation adds through the scratch buffer.
    /// </summary>
    public void SwapAxes(Tensor x, Tensor y, int outer, int a, int mid, int b, int inner, bool accumulate)
    {
        const string op = nameof(SwapAxes);
        if (outer < 0 || a < 0 || mid < 0 || b < 0 || inner < 0)
        {
            throw new ArgumentException($"{op}: sizes must not be negative, got [{outer},{a},{mid},{b},{inner}].");
        }
        long length = (long)outer * a * mid * b * inner;
        FloatOperand(x, length, op, "x", outer, a, mid, b, inner);
        FloatOperand(y, length, op, "y", outer, b, mid, a, inner);
        if (length == 0)
        {
            return;
        }
        // y's row-major order over [outer, b, mid, a, inner], with x's stride for each.
        long sInner = 1, sB = inner, sMid = (long)b * inner, sA = (long)mid * b * inner, sOuter = (long)a * mid * b * inner;
        var layout = new StridedLayout(x.Offset, 1, outer, b, mid, a, inner, 0, sOuter, sB, sMid, sA, sInner);
        if (!accumulate)
        {
            CopyStridedCore(x, layout, y);
            return;
        }
        var tmp = Scratch(length);
        CopyStridedCore(x, layout, tmp);
        Axpy(1f, tmp, y);
    }

    // ------------------------------------------------------------------ masks to lengths (SequencePool.cs)

    /// <summary>
    /// lengths[n] = the number of leading 1s of row n of <paramref name="mask"/> (float32 [N,T], 1 at real steps then 0 at
    /// padding, as a padded batch's mask holds), for the kernels that take lengths (int64 [N]). A row that is not 1s followed
    /// by 0s (a 1 after a 0, or a value other than 0 and 1) is refused with an error naming <paramref name="owner"/> (the
    /// network and input, for generated code), the row, the position and the value: the CPU while scanning; a GPU records
    /// the fault on the device without waiting, its optimiser steps leave the parameters unchanged while it is pending, and
    /// its next read (a loss, <see cref="Synchronize"/>, any download) throws the same error. A <paramref name="shift"/> is added to each length, floored at 0: the valid steps
    /// of a value whose length is the mask's shifted by a constant (a stride-1 <c>Conv1d</c> of kernel k leaves T-k+1
    /// steps, and a row of L tokens has L-k+1 windows within it).
    /// </summary>
    public void MaskLengths(Tensor mask, Tensor lengths, string? owner = null, int shift = 0)
    {
        const string op = nameof(MaskLengths);
        Operand(mask, op, "mask", DType.Float32);
        if (mask.Rank != 2)
        {
            throw new ArgumentException($"{op}: the mask should be [N,T], got {mask}.");
        }
        int batch = mask.Dims[0], time = mask.Dims[1];
        Operand(lengths, op, "lengths", DType.Int64);
        Expect(lengths, batch, op, "lengths", batch);
        long bad = MaskLengthsCore(mask, lengths, batch, time, shift, owner ?? op);
        if (bad >= 0)
        {
            Span<float> value = stackalloc float[1];
            Download(mask.View(-1).Narrow(0, (int)bad, 1), value);
            throw MaskError(owner ?? op, bad, time, value[0]);
        }
    }

    /// <summary>
    /// Writes the lengths; returns the flat index of the first element that breaks the 1s-then-0s rule, or -1 (a device
    /// that queues its work returns -1 and lets its next read throw <see cref="MaskError"/> for <paramref name="owner"/>).
    /// </summary>
    protected abstract long MaskLengthsCore(Tensor mask, Tensor lengths, int batch, int time, int shift, string owner);

    /// <summary>The error for the mask element at flat index <paramref name="bad"/> (rows of <paramref name="time"/>) holding <paramref name="value"/>.</summary>
    protected static ArgumentException MaskError(string owner, long bad, int time, float value)
        => new($"{owner}: row {bad / Math.Max(time, 1)} of the mask is not 1s followed by 0s: position {bad % Math.Max(time, 1)} holds {value.ToString(System.Globalization.CultureInfo.InvariantCulture)}.", "mask");

    // ------------------------------------------------------------------ recurrent layers (Recurrent.cs)

    /// <summary>
    /// One layer-direction of an RNN, LSTM or GRU (<paramref name="g"/>) over x [N,T,D], PyTorch's gate orders and layouts.
    /// The input projections of all steps are one GEMM; only h W_hh^T is sequential. With <paramref name="lengths"/>
    /// (int64 [N], each in [0,T]) a row's steps at or beyond its length leave the state unchanged and output 0, and the
    /// reverse direction starts at length-1 (PyTorch's packed sequences). <paramref name="h0"/>/<paramref name="c0"/> [N,H]
    /// are the initial states (zeros when null; c only for the LSTM); <paramref name="hLast"/> (and <paramref name="cLast"/>)
    /// [N,H] receive the last state. <paramref name="workspace"/> holds <see cref="RecurrentWorkspace.Size(in RecurrentGeometry)"/>
    /// floats that <see cref="RecurrentBackward"/> reads: keep it untouched between the two calls.
    /// </summary>
    public void RecurrentForward(in RecurrentGeometry g, Tensor x, Tensor? lengths, Tensor weightIh, Tensor weightHh, Tensor? biasIh, Tensor? biasHh,
        Tensor? h0, Tensor? c0, Tensor output, Tensor hLast, Tensor? cLast, Tensor workspace)
    {
        const string op = nameof(RecurrentForward);
        RecurrentOperands(g, x, lengths, weightIh, weightHh, biasIh, biasHh, workspace, op);
        int n = g.Batch, h = g.HiddenSize;
        FloatOperand(output, (long)n * g.Time * g.RowWidth, op, "output", n, g.Time, g.RowWidth);
        State(h0, n, h, op, "h0");
        State(hLast, n, h, op, "hLast");
        if (g.Kind == RecurrentKind.Lstm)
        {
            State(c0, n, h, op, "c0");
            State(cLast, n, h, op, "cLast");
        }
        else if (c0 is not null || cLast is not null)
        {
            throw new ArgumentException($"{op}: only an LSTM has a cell state; {g.Kind} got c0 or cLast.");
        }
        if (n == 0)
        {
            return;
        }
        RecurrentForwardCore(g, x, lengths, weightIh, weightHh, biasIh, biasHh, h0, c0, output, hLast, cLast, workspace);
    }

    /// <summary>
    /// Backpropagation through time of <see cref="RecurrentForward"/> (same geometry, inputs and workspace), given
    /// <paramref name="dOutput"/> (shaped like the output; this direction's columns are read, padding ignored) and the
    /// optional gradients of the last state. Writes (or adds, when <paramref name="accumulateDx"/>) dx [N,T,D] when not
    /// null, writes dh0/dc0 when not null, and adds the weights' gradients summed over all steps (two big GEMMs: dW_ih and
    /// dx over all N*T steps at once; dW_hh likewise from the saved states).
    /// </summary>
    public void RecurrentBackward(in RecurrentGeometry g, Tensor x, Tensor? lengths, Tensor weightIh, Tensor weightHh,
        Tensor dOutput, Tensor? dhLast, Tensor? dcLast, Tensor workspace,
        Tensor? dx, Tensor? dh0, Tensor? dc0, Tensor dWeightIh, Tensor dWeightHh, Tensor? dBiasIh, Tensor? dBiasHh, bool accumulateDx)
    {
        const string op = nameof(RecurrentBackward);
        RecurrentOperands(g, x, lengths, weightIh, weightHh, dBiasIh, dBiasHh, workspace, op);
        int n = g.Batch, h = g.HiddenSize;
        FloatOperand(dOutput, (long)n * g.Time * g.RowWidth, op, "dOutput", n, g.Time, g.RowWidth);
        FloatOperand(dWeightIh, (long)g.GateWidth * g.InputSize, op, "dWeightIh", g.GateWidth, g.InputSize);
        FloatOperand(dWeightHh, (long)g.GateWidth * h, op, "dWeightHh", g.GateWidth, h);
        if (dx is not null)
        {
            FloatOperand(dx, (long)n * g.Time * g.InputSize, op, "dx", n, g.Time, g.InputSize);
        }
        State(dhLast, n, h, op, "dhLast");
        State(dh0, n, h, op, "dh0");
        if (g.Kind == RecurrentKind.Lstm)
        {
            State(dcLast, n, h, op, "dcLast");
            State(dc0, n, h, op, "dc0");
        }
        else if (dc0 is not null || dcLast is not null)
        {
            throw new ArgumentException($"{op}: only an LSTM has a cell state; {g.Kind} got dc0 or dcLast.");
        }
        if (n == 0)
        {
            return;
        }
        RecurrentBackwardCore(g, x, lengths, weightIh, weightHh, dOutput, dhLast, dcLast, workspace, dx, dh0, dc0, dWeightIh, dWeightHh, dBiasIh, dBiasHh, accumulateDx);
    }

    protected abstract void RecurrentForwardCore(in RecurrentGeometry g, Tensor x, Tensor? lengths, Tensor weightIh, Tensor weightHh, Tensor? biasIh, Tensor? biasHh,
        Tensor? h0, Tensor? c0, Tensor output, Tensor hLast, Tensor? cLast, Tensor workspace);

    protected abstract void RecurrentBackwardCore(in RecurrentGeometry g, Tensor x, Tensor? lengths, Tensor weightIh, Tensor weightHh,
        Tensor dOutput, Tensor? dhLast, Tensor? dcLast, Tensor workspace,
        Tensor? dx, Tensor? dh0, Tensor? dc0, Tensor dWeightIh, Tensor dWeightHh, Tensor? dBiasIh, Tensor? dBiasHh, bool accumulateDx);

    private void RecurrentOperands(in RecurrentGeometry g, Tensor x, Tensor? lengths, Tensor weightIh, Tensor weightHh, Tensor? biasIh, Tensor? biasHh,
        Tensor workspace, string op)
    {
        g.Validate(op);
        int n = g.Batch, gh = g.GateWidth;
        FloatOperand(x, (long)n * g.Time * g.InputSize, op, "x", n, g.Time, g.InputSize);
        Lengths(lengths, n, op);
        FloatOperand(weightIh, (long)gh * g.InputSize, op, "weight_ih", gh, g.InputSize);
        FloatOperand(weightHh, (long)gh * g.HiddenSize, op, "weight_hh", gh, g.HiddenSize);
        if (biasIh is not null)
        {
            FloatOperand(biasIh, gh, op, "bias_ih", gh);
        }
        if (biasHh is not null)
        {
            FloatOperand(biasHh, gh, op, "bias_hh", gh);
        }
        Operand(workspace, op, "workspace", DType.Float32);
        long need = RecurrentWorkspace.Size(g);
        if (workspace.Length < need)
        {
            throw new ArgumentException($"{op}: the workspace needs RecurrentWorkspace.Size = {need} floats for {g} but {workspace} has {workspace.Length}.");
        }
    }

    private void State(Tensor? t, int batch, int hidden, string op, string what)
    {
        if (t is not null)
        {
            FloatOperand(t, (long)batch * hidden, op, what, batch, hidden);
        }
    }

    // ------------------------------------------------------------------ attention pooling (AttentionPool.cs)

    /// <summary>
    /// The course's attention pooling over x [N,T,D] with a learned context <paramref name="context"/> [D]: importance
    /// i_t = x_t . c, weights a = softmax(i) over the valid steps t &lt; length[n] (all without <paramref name="lengths"/>;
    /// 0 at padding), y[n] = sum_t a_t x_t [N,D]. <paramref name="weights"/> [N,T] keeps a for backward and display; a
    /// fully padded row gets zero weights and y = 0.
    /// </summary>
    public void AttentionPool(Tensor x, Tensor context, Tensor? lengths, Tensor weights, Tensor y, int batch, int time, int dim)
    {
        const string op = nameof(AttentionPool);
        AttentionOperands(x, context, lengths, weights, y, batch, time, dim, op, "y");
        if ((long)batch * dim > 0)
        {
            AttentionPoolCore(x, context, lengths, weights, y, batch, time, dim);
        }
    }

    /// <summary>
    /// Gradients of <see cref="AttentionPool"/> given dy [N,D]: dx (+)= a_t dy + di_t c and dcontext += sum di_t x_t, with
    /// di_t = a_t (dy . x_t - sum_s a_s dy . x_s).
    /// </summary>
    public void AttentionPoolBackward(Tensor x, Tensor context, Tensor weights, Tensor dy, Tensor dx, Tensor dcontext, int batch, int time, int dim, bool accumulateDx)
    {
        const string op = nameof(AttentionPoolBackward);
        AttentionOperands(x, context, null, weights, dy, batch, time, dim, op, "dy");
        FloatOperand(dx, (long)batch * time * dim, op, "dx", batch, time, dim);
        FloatOperand(dcontext, dim, op, "dcontext", dim);
        if ((long)batch * time > 0)
        {
            AttentionPoolBackwardCore(x, context, weights, dy, dx, dcontext, batch, time, dim, accumulateDx);
        }
    }

    protected abstract void AttentionPoolCore(Tensor x, Tensor context, Tensor? lengths, Tensor weights, Tensor y, int batch, int time, int dim);
    protected abstract void AttentionPoolBackwardCore(Tensor x, Tensor context, Tensor weights, Tensor dy, Tensor dx, Tensor dcontext, int batch, int time, int dim, bool accumulateDx);

    private void AttentionOperands(Tensor x, Tensor context, Tensor? lengths, Tensor weights, Tensor y, int batch, int time, int dim, string op, string yName)
    {
        if (batch < 0 || time < 0 || dim < 1)
        {
            throw new ArgumentException($"{op}: the batch and time must not be negative and the width must be positive, got [{batch},{time},{dim}].");
        }
        FloatOperand(x, (long)batch * time * dim, op, "x", batch, time, dim);
        FloatOperand(context, dim, op, "context", dim);
        FloatOperand(weights, (long)batch * time, op, "weights", batch, time);
        FloatOperand(y, (long)batch * dim, op, yName, batch, dim);
        Lengths(lengths, batch, op);
    }

    // ------------------------------------------------------------------ gradient clipping (Clipping.cs)

    /// <summary>
    /// accumulator[0] += sum |x_i|^p for a finite <paramref name="normType"/> p &gt; 0, or accumulator[0] = max(accumulator[0],
    /// max |x_i|) for p = +infinity: one parameter's share of the global norm <c>clip_grad_norm_</c> computes.
    /// </summary>
    public void AccumulateNormPower(Tensor x, Tensor accumulator, float normType)
    {
        const string op = nameof(AccumulateNormPower);
        Operand(x, op, "x", DType.Float32);
        Operand(accumulator, op, "accumulator", DType.Float32);
        RequireLength(accumulator, 1, op, "accumulator");
        if (!(normType > 0f))
        {
            throw new ArgumentOutOfRangeException(nameof(normType), $"{op}: the norm type must be positive (or infinity), got {normType}.");
        }
        if (x.Length > 0)
        {
            AccumulateNormPowerCore(x, accumulator, normType);
        }
    }

    /// <summary>y *= alpha.</summary>
    public void Scale(Tensor y, float alpha)
    {
        Operand(y, nameof(Scale), "y", DType.Float32);
        if (y.Length > 0)
        {
            ScaleCore(y, alpha);
        }
    }

    /// <summary>y = min(max(y, min), max) elementwise (NaN stays NaN, as <c>torch.clamp</c>).</summary>
    public void Clamp(Tensor y, float min, float max)
    {
        const string op = nameof(Clamp);
        Operand(y, op, "y", DType.Float32);
        if (!(min <= max))
        {
            throw new ArgumentOutOfRangeException(nameof(min), $"{op}: min {min} must not exceed max {max}.");
        }
        if (y.Length > 0)
        {
            ClampCore(y, min, max);
        }
    }

    protected abstract void AccumulateNormPowerCore(Tensor x, Tensor accumulator, float normType);
    protected abstract void ScaleCore(Tensor y, float alpha);
    protected abstract void ClampCore(Tensor y, float min, float max);
}
