namespace Dsl;

/// <summary>
/// Scaled dot-product attention, the kernel behind <c>MultiheadAttention</c>: softmax(Q K^T * scale + masks) V over
/// operands laid out [N*heads, T, d]. Two paths with one contract: the fused kernels (<see cref="Attention"/>, per
/// backend) hold one tile of scores at a time (on the CPU 64 queries by 64 keys per thread) and save only each row's log-sum-exp, so memory grows linearly
/// with the sequence length; the unfused reference (<see cref="AttentionReference"/>), composed here from
/// <see cref="BatchedMatMul"/>, <see cref="Broadcast"/> and <see cref="Softmax"/>, materialises and saves the
/// [N*heads, T, S] weights and is the oracle in tests.
/// </summary>
/// <remarks>
/// A query row whose keys are all masked has no defined softmax: the reference gives NaN as PyTorch 1.13 does, the
/// fused kernels give a zero output and zero gradients.
/// </remarks>
public abstract partial class Device
{
    /// <summary>
    /// The fused forward: <paramref name="output"/> [B,T,Dv] and the log-sum-exp of each row's masked, scaled scores
    /// <paramref name="logSumExp"/> [B,T] (what <see cref="AttentionBackward"/> needs). <paramref name="mask"/> is an
    /// additive [T,S] mask, <paramref name="keyPadding"/> an additive [N,S] one (B = N * <paramref name="heads"/>);
    /// see <see cref="AttentionMath.AdditiveMask"/>. <paramref name="scale"/> defaults to 1/sqrt(d) when NaN.
    /// </summary>
    public void Attention(Tensor q, Tensor k, Tensor v, Tensor? mask, Tensor? keyPadding, bool causal, int heads, float scale, Tensor output, Tensor logSumExp)
    {
        const string op = nameof(Attention);
        var g = AttentionOperands(q, k, v, mask, keyPadding, causal, heads, scale, op);
        FloatOperand(output, (long)g.Batch * g.T * g.Dv, op, "output", g.Batch, g.T, g.Dv);
        FloatOperand(logSumExp, (long)g.Batch * g.T, op, "logSumExp", g.Batch, g.T);
        if (output.Length == 0)
        {
            return;
        }
        AttentionCore(g, q, k, v, mask, keyPadding, output, logSumExp);
    }

    /// <summary>
    /// The fused backward: dq, dk, dv (overwritten) from the forward's <paramref name="output"/> and
    /// <paramref name="logSumExp"/> and the output's gradient <paramref name="dOutput"/>, recomputing each weight from the
    /// saved log-sum-exp instead of reading a stored score matrix.
    /// </summary>
    public void AttentionBackward(Tensor q, Tensor k, Tensor v, Tensor? mask, Tensor? keyPadding, bool causal, int heads, float scale,
        Tensor output, Tensor logSumExp, Tensor dOutput, Tensor dq, Tensor dk, Tensor dv)
    {
        const string op = nameof(AttentionBackward);
        var g = AttentionOperands(q, k, v, mask, keyPadding, causal, heads, scale, op);
        FloatOperand(output, (long)g.Batch * g.T * g.Dv, op, "output", g.Batch, g.T, g.Dv);
        FloatOperand(dOutput, (long)g.Batch * g.T * g.Dv, op, "dOutput", g.Batch, g.T, g.Dv);
        FloatOperand(logSumExp, (long)g.Batch * g.T, op, "logSumExp", g.Batch, g.T);
        FloatOperand(dq, q.Length, op, "dq", q.Dims);
        FloatOperand(dk, k.Length, op, "dk", k.Dims);
        FloatOperand(dv, v.Length, op, "dv", v.Dims);
        if (dq.Length > 0)
        {
            FillCore(dq, 0f);
        }
        if (dk.Length > 0)
        {
            FillCore(dk, 0f);
        }
        if (dv.Length > 0)
        {
            FillCore(dv, 0f);
        }
        if (output.Length == 0 || g.S == 0)
        {
            return;
        }
        AttentionBackwardCore(g, q, k, v, mask, keyPadding, output, logSumExp, dOutput, dq, dk, dv);
    }

    /// <summary>
    /// The unfused reference forward: <paramref name="weights"/> [B,T,S] = softmax(Q K^T * scale + masks) (saved for
    /// <see cref="AttentionReferenceBackward(Tensor, Tensor, Tensor, float, Tensor, Tensor, Tensor, Tensor, Tensor)"/>), <paramref name="output"/> = weights V. Same operands and masks as
    /// <see cref="Attention"/>.
    /// </summary>
    public void AttentionReference(Tensor q, Tensor k, Tensor v, Tensor? mask, Tensor? keyPadding, bool causal, int heads, float scale, Tensor output, Tensor weights)
    {
        const string op = nameof(AttentionReference);
        var g = AttentionOperands(q, k, v, mask, keyPadding, causal, heads, scale, op);
        FloatOperand(output, (long)g.Batch * g.T * g.Dv, op, "output", g.Batch, g.T, g.Dv);
        FloatOperand(weights, (long)g.Batch * g.T * g.S, op, "weights", g.Batch, g.T, g.S);
        if (output.Length == 0)
        {
            return;
        }
        var scores = weights.View(g.Batch, g.T, g.S);
        BatchedMatMul(false, true, q, k, scores, g.Scale);
        if (mask is not null)
        {
            Broadcast(BinaryOp.Add, scores, mask.View(g.T, g.S), scores);
        }
        if (causal)
        {
            Broadcast(BinaryOp.Add, scores, AttentionMath.CausalMask(g.T, g.S, this), scores);
        }
        if (keyPadding is not null)
        {
            var perHead = scores.View(g.Batch / g.Heads, g.Heads, g.T, g.S);
            Broadcast(BinaryOp.Add, perHead, keyPadding.View(g.Batch / g.Heads, 1, 1, g.S), perHead);
        }
        if (g.S > 0)
        {
            Softmax(scores, scores, log: false);
        }
        BatchedMatMul(false, false, scores, v.View(g.Batch, g.S, g.Dv), output.View(g.Batch, g.T, g.Dv));
    }

    /// <summary>The unfused reference backward from the saved <paramref name="weights"/>: dq, dk, dv (overwritten).</summary>
    public void AttentionReferenceBackward(Tensor q, Tensor k, Tensor v, float scale, Tensor weights, Tensor dOutput, Tensor dq, Tensor dk, Tensor dv)
    {
        long scores = (long)weights.Length;
        AttentionReferenceBackward(q, k, v, scale, weights, dOutput, dq, dk, dv,
            Allocate(DType.Float32, (int)Math.Max(scores, 1)), Allocate(DType.Float32, (int)Math.Max(scores, 1)));
    }

    /// <summary>
    /// <see cref="AttentionReferenceBackward(Tensor, Tensor, Tensor, float, Tensor, Tensor, Tensor, Tensor, Tensor)"/> with the
    /// gradients of the weights and of the scores in the caller's buffers (each at least [B,T,S] elements, contents
    /// overwritten), so a training step that owns them allocates nothing.
    /// </summary>
    public void AttentionReferenceBackward(Tensor q, Tensor k, Tensor v, float scale, Tensor weights, Tensor dOutput, Tensor dq, Tensor dk, Tensor dv,
        Tensor dWeights, Tensor dScores)
    {
        const string op = nameof(AttentionReferenceBackward);
        var g = AttentionOperands(q, k, v, null, null, false, 1, scale, op);
        FloatOperand(weights, (long)g.Batch * g.T * g.S, op, "weights", g.Batch, g.T, g.S);
        FloatOperand(dOutput, (long)g.Batch * g.T * g.Dv, op, "dOutput", g.Batch, g.T, g.Dv);
        FloatOperand(dq, q.Length, op, "dq", q.Dims);
        FloatOperand(dk, k.Length, op, "dk", k.Dims);
        FloatOperand(dv, v.Length, op, "dv", v.Dims);
        long need = (long)g.Batch * g.T * g.S;
        Operand(dWeights, op, "dWeights", DType.Float32);
        Operand(dScores, op, "dScores", DType.Float32);
        if (dWeights.Length < need || dScores.Length < need)
        {
            throw new ArgumentException($"{op}: the scratch buffers need {need} elements ([{g.Batch},{g.T},{g.S}]) but hold {dWeights.Length} and {dScores.Length}.");
        }
        var p = weights.View(g.Batch, g.T, g.S);
        var dO = dOutput.View(g.Batch, g.T, g.Dv);
        BatchedMatMul(true, false, p, dO, dv.View(g.Batch, g.S, g.Dv));
        var dp = dWeights.Length == need ? dWeights.View(g.Batch, g.T, g.S) : dWeights.View(-1).Narrow(0, 0, (int)need).View(g.Batch, g.T, g.S);
        var ds = dScores.Length == need ? dScores.View(g.Batch, g.T, g.S) : dScores.View(-1).Narrow(0, 0, (int)need).View(g.Batch, g.T, g.S);
        BatchedMatMul(false, true, dO, v.View(g.Batch, g.S, g.Dv), dp);
        if (g.S > 0 && g.T > 0)
        {
            SoftmaxBackward(p, dp, ds, log: false, accumulate: false);
        }
        BatchedMatMul(false, false, ds, k.View(g.Batch, g.S, g.D), dq.View(g.Batch, g.T, g.D), g.Scale);
        BatchedMatMul(true, false, ds, q.View(g.Batch, g.T, g.D), dk.View(g.Batch, g.S, g.D), g.Scale);
    }

    /// <summary>
    /// The additive key-padding mask [N,S] of a 0/1 key mask [N,S] (1 for a real key, 0 for padding, as <c>Mask("mask", "S")</c>
    /// holds): 0 where the mask is 1 and -<see cref="float.MaxValue"/> where it is 0, so a padded key's weight underflows to
    /// exactly 0 (a finite stand-in for PyTorch's -inf: an all-zero row then gets uniform weights instead of NaN). One fill and
    /// one axpy, so both devices share the formula: -max + max * 1 = 0 exactly.
    /// </summary>
    public void KeyPaddingFromMask(Tensor mask, Tensor keyPadding)
    {
        const string op = nameof(KeyPaddingFromMask);
        Operand(mask, op, "mask", DType.Float32);
        Operand(keyPadding, op, "keyPadding", DType.Float32);
        SameLength(mask, keyPadding, op);
        if (mask.Length == 0)
        {
            return;
        }
        Fill(keyPadding, -float.MaxValue);
        Axpy(float.MaxValue, mask, keyPadding);
    }

    protected abstract void AttentionCore(in AttentionGeometry g, Tensor q, Tensor k, Tensor v, Tensor? mask, Tensor? keyPadding, Tensor output, Tensor logSumExp);

    protected abstract void AttentionBackwardCore(in AttentionGeometry g, Tensor q, Tensor k, Tensor v, Tensor? mask, Tensor? keyPadding,
        Tensor output, Tensor logSumExp, Tensor dOutput, Tensor dq, Tensor dk, Tensor dv);

    /// <summary>Checks q [B,T,d], k [B,S,d], v [B,S,dv] and the masks against each other and returns the call's geometry.</summary>
    private AttentionGeometry AttentionOperands(Tensor q, Tensor k, Tensor v, Tensor? mask, Tensor? keyPadding, bool causal, int heads, float scale, string op)
    {
        Operand(q, op, "q", DType.Float32);
        Operand(k, op, "k", DType.Float32);
        Operand(v, op, "v", DType.Float32);
        if (q.Rank != 3 || k.Rank != 3 || v.Rank != 3)
        {
            throw new ArgumentException($"{op}: q, k and v must be [N*heads, length, width], got {Tensor.FormatShape(q.Dims)}, {Tensor.FormatShape(k.Dims)} and {Tensor.FormatShape(v.Dims)}.");
        }
        int b = q.Dims[0], t = q.Dims[1], d = q.Dims[2], s = k.Dims[1], dv = v.Dims[2];
        if (k.Dims[0] != b || v.Dims[0] != b)
        {
            throw new ArgumentException($"{op}: q {Tensor.FormatShape(q.Dims)}, k {Tensor.FormatShape(k.Dims)} and v {Tensor.FormatShape(v.Dims)} must share the first (batch * heads) dimension.");
        }
        if (k.Dims[2] != d)
        {
            throw new ArgumentException($"{op}: queries {Tensor.FormatShape(q.Dims)} and keys {Tensor.FormatShape(k.Dims)} differ in width ({d} and {k.Dims[2]}); a score is a dot product of the two.");
        }
        if (v.Dims[1] != s)
        {
            throw new ArgumentException($"{op}: keys {Tensor.FormatShape(k.Dims)} and values {Tensor.FormatShape(v.Dims)} differ in length ({s} and {v.Dims[1]}); each key needs one value.");
        }
        if (heads < 1 || b % heads != 0)
        {
            throw new ArgumentException($"{op}: the batch dimension {b} of {Tensor.FormatShape(q.Dims)} is not a whole number of samples of {heads} heads.");
        }
        if (mask is not null)
        {
            FloatOperand(mask, (long)t * s, op, "mask", t, s);
        }
        if (keyPadding is not null)
        {
            FloatOperand(keyPadding, (long)(b / heads) * s, op, "keyPadding", b / heads, s);
        }
        float sc = float.IsNaN(scale) ? AttentionMath.DefaultScale(d) : scale;
        return new AttentionGeometry(b, t, s, d, dv, heads, sc, causal ? 1 : 0, mask is null ? 0 : 1, keyPadding is null ? 0 : 1);
    }
}
