namespace Dsl;

/// <summary>
/// What one <c>MultiHeadAttention</c> layer (PyTorch's <c>nn.MultiheadAttention(batch_first=True)</c>) computes and keeps between
/// its forward and backward, composed from the device's kernels so both backends share it: the projections as GEMMs over
/// all N*L rows (<c>in_proj_weight</c> [3d, d]: rows 0..d project the queries, d..2d the keys, 2d..3d the values; one GEMM
/// for all three in self-attention), the heads
/// split by strided copies into [N*H, L, dh], the fused attention (<see cref="Device.Attention"/>: memory linear in the
/// lengths), the heads merged back and the output projection (<c>out_proj</c>).
/// https://pytorch.org/docs/1.13/generated/torch.nn.MultiheadAttention.html (Vaswani et al. 2017, section 3.2.2)
/// </summary>
/// <remarks>
/// Dropout on the attention weights needs the weights, which the fused kernel never holds: in training with a dropout above
/// 0 the layer takes the unfused path (the reference's formula, <see cref="Device.AttentionReference"/>: the [N*H, T, S] weights
/// materialised, a mask drawn over them, as PyTorch does); otherwise (evaluation, or dropout 0) the fused one. The buffers are
/// <see cref="SymbolicSlot"/>s that grow to the largest batch and are reused; their views are cached, so a step of a size
/// seen before allocates nothing.
/// </remarks>
public sealed class MultiHeadAttentionState
{
    private readonly Device _device;
    private readonly ViewCache _views = new();
    private readonly SymbolicSlot _q, _kv, _qh, _kh, _vh, _context, _logSumExp, _merged, _keyPadding;
    private readonly SymbolicSlot _weights, _dropMask, _dropped, _dWeights, _dScores;
    private readonly SymbolicSlot _dMerged, _dContext, _dqh, _dkh, _dvh, _dq, _dkv;
    private readonly System.Collections.Generic.Dictionary<(int, int), Tensor> _causalMasks = new();
    private readonly SymbolicSlot _shownWeights, _shownContext;
    private bool _unfused;
    private bool _hasKeyPadding;
    private int _n, _t, _s;

    /// <summary>A layer of width <paramref name="embedDim"/> split into <paramref name="heads"/> heads.</summary>
    public MultiHeadAttentionState(Device device, int embedDim, int heads, float dropout, bool causal)
    {
        ArgumentNullException.ThrowIfNull(device);
        if (heads < 1 || embedDim < 1 || embedDim % heads != 0)
        {
            throw new ArgumentException($"MultiHeadAttention: the width {embedDim} must be a positive multiple of the heads {heads}.");
        }
        if (!(dropout >= 0f && dropout < 1f))
        {
            throw new ArgumentOutOfRangeException(nameof(dropout), $"MultiHeadAttention: the dropout must lie in [0, 1), got {dropout}.");
        }
        _device = device;
        EmbedDim = embedDim;
        Heads = heads;
        Dropout = dropout;
        Causal = causal;
        SymbolicSlot Slot() => new(device);
        (_q, _kv, _qh, _kh, _vh, _context, _logSumExp, _merged, _keyPadding) = (Slot(), Slot(), Slot(), Slot(), Slot(), Slot(), Slot(), Slot(), Slot());
        (_weights, _dropMask, _dropped, _dWeights, _dScores) = (Slot(), Slot(), Slot(), Slot(), Slot());
        (_dMerged, _dContext, _dqh, _dkh, _dvh, _dq, _dkv) = (Slot(), Slot(), Slot(), Slot(), Slot(), Slot(), Slot());
        (_shownWeights, _shownContext) = (Slot(), Slot());
    }

    public int EmbedDim { get; }

    public int Heads { get; }

    public float Dropout { get; }

    public bool Causal { get; }

    private int HeadDim => EmbedDim / Heads;

    /// <summary>
    /// The attention weights [N,heads,T,S] of the last <see cref="Forward"/> (before dropout), for display: the fused kernel
    /// never holds them, so they are computed here by the reference kernel from the heads the forward kept, into buffers of
    /// their own (what backward reads is untouched). A view the next call overwrites.
    /// </summary>
    /// <exception cref="InvalidOperationException">No Forward has run.</exception>
    public Tensor Weights()
    {
        if (_n == 0)
        {
            throw new InvalidOperationException("MultiHeadAttention: run Forward before reading the attention weights.");
        }
        int n = _n, t = _t, s = _s, h = Heads, dh = HeadDim;
        var weights = _shownWeights.Rows(n * h, t, s);
        _device.AttentionReference(_qh.Rows(n * h, t, dh), _kh.Rows(n * h, s, dh), _vh.Rows(n * h, s, dh), null,
            _hasKeyPadding ? _keyPadding.Rows(n, s) : null, Causal, h, AttentionMath.DefaultScale(dh), _shownContext.Rows(n * h, t, dh), weights);
        return _shownWeights.Rows(n, h, t, s);
    }

    /// <summary>
    /// y [N,T,d] = attention of <paramref name="query"/> [N,T,d] over <paramref name="memory"/> [N,S,d] (keys and values; the
    /// query itself when null: self-attention). <paramref name="keyMask"/> [N,S] holds 1 for a real key and 0 for padding
    /// (PyTorch's <c>key_padding_mask</c> with the opposite sense); padded keys get weight 0. <paramref name="seed"/> draws the
    /// dropout mask in <paramref name="training"/>.
    /// </summary>
    public void Forward(Tensor query, Tensor? memory, Tensor? keyMask, bool training, ulong seed,
        Tensor inProjWeight, Tensor? inProjBias, Tensor outProjWeight, Tensor? outProjBias, Tensor y)
    {
        var device = _device;
        var source = memory ?? query;
        int n = query.Dims[0], t = query.Dims[1], s = source.Dims[1], d = EmbedDim, h = Heads, dh = HeadDim;
        if (query.Dims[2] != d || source.Dims[0] != n || source.Dims[2] != d)
        {
            throw new ArgumentException($"MultiHeadAttention: the query {Tensor.FormatShape(query.Dims)} and the keys {Tensor.FormatShape(source.Dims)} must be [N,T,{d}] and [N,S,{d}].");
        }
        _n = n;
        _t = t;
        _s = s;
        var qh = _qh.Rows(n * h, t, dh);
        var kh = _kh.Rows(n * h, s, dh);
        var vh = _vh.Rows(n * h, s, dh);
        if (memory is null)
        {
            // Self-attention: one GEMM projects the queries, keys and values together ([N*T, 3d]).
            var qkv = _kv.Rows(n, t, 3 * d);
            device.Linear(query, inProjWeight, inProjBias, qkv);
            device.CopyStrided(_views.HeadsOf(qkv, 3, 0, h), _views.Split(qh, h));
            device.CopyStrided(_views.HeadsOf(qkv, 3, 1, h), _views.Split(kh, h));
            device.CopyStrided(_views.HeadsOf(qkv, 3, 2, h), _views.Split(vh, h));
        }
        else
        {
            var q = _q.Rows(n, t, d);
            var kv = _kv.Rows(n, s, 2 * d);
            device.Linear(query, _views.Rows(inProjWeight, 0, d), inProjBias is null ? null : _views.Rows(inProjBias, 0, d), q);
            device.Linear(source, _views.Rows(inProjWeight, d, 2 * d), inProjBias is null ? null : _views.Rows(inProjBias, d, 2 * d), kv);
            device.CopyStrided(_views.HeadsOf(q, 1, 0, h), _views.Split(qh, h));
            device.CopyStrided(_views.HeadsOf(kv, 2, 0, h), _views.Split(kh, h));
            device.CopyStrided(_views.HeadsOf(kv, 2, 1, h), _views.Split(vh, h));
        }
        Tensor? keyPadding = null;
        _hasKeyPadding = keyMask is not null;
        if (keyMask is not null)
        {
            keyPadding = _keyPadding.Rows(n, s);
            device.KeyPaddingFromMask(keyMask, keyPadding);
        }
        var context = _context.Rows(n * h, t, dh);
        float scale = AttentionMath.DefaultScale(dh);
        _unfused = training && Dropout > 0f;
        if (_unfused)
        {
            var weights = _weights.Rows(n * h, t, s);
            var dropped = _dropped.Rows(n * h, t, s);
            Weights(qh, kh, keyPadding, scale, weights);
            device.Dropout(weights, _dropMask.Rows(n * h, t, s), dropped, Dropout, seed, group: 1);
            device.BatchedMatMul(false, false, dropped, vh, context);
        }
        else
        {
            device.Attention(qh, kh, vh, null, keyPadding, Causal, h, scale, context, _logSumExp.Rows(n * h, t));
        }
        var merged = _merged.Rows(n, t, d);
        device.CopyToStrided(_views.Split(context, h), _views.HeadsOf(merged, 1, 0, h));
        device.Linear(merged, outProjWeight, outProjBias, y);
    }

    /// <summary>
    /// The unfused weights [N*H,T,S] = softmax(q k^T * scale + key padding + causal mask), as <see cref="Device.AttentionReference"/>
    /// computes them, from cached views so a step allocates nothing.
    /// </summary>
    private void Weights(Tensor qh, Tensor kh, Tensor? keyPadding, float scale, Tensor weights)
    {
        var device = _device;
        int t = qh.Dims[1], s = kh.Dims[1];
        device.BatchedMatMul(false, true, qh, kh, weights, scale);
        if (Causal)
        {
            if (!_causalMasks.TryGetValue((t, s), out var causal))
            {
                causal = AttentionMath.CausalMask(t, s, device);
                _causalMasks[(t, s)] = causal;
            }
            device.Broadcast(BinaryOp.Add, weights, causal, weights);
        }
        if (keyPadding is not null)
        {
            var perHead = _views.Find(weights, 4000) ?? _views.Add(weights, 4000, weights.View(weights.Dims[0] / Heads, Heads, t, s));
            var row = _views.Find(keyPadding, 4001) ?? _views.Add(keyPadding, 4001, keyPadding.View(keyPadding.Dims[0], 1, 1, s));
            device.Broadcast(BinaryOp.Add, perHead, row, perHead);
        }
        if (s > 0)
        {
            device.Softmax(weights, weights, log: false);
        }
    }

    /// <summary>
    /// The gradients of the last <see cref="Forward"/>: the parameters' accumulate (as in PyTorch), and are skipped where null
    /// (a frozen parameter's, which must stay untouched); <paramref name="dQuery"/>
    /// and <paramref name="dMemory"/> (null when not wanted) are overwritten, or added to when <paramref name="accumulateQuery"/>
    /// / <paramref name="accumulateMemory"/>. In self-attention (no memory) the query receives all three projections' gradients.
    /// </summary>
    public void Backward(Tensor query, Tensor? memory, Tensor inProjWeight, Tensor outProjWeight, Tensor dy,
        Tensor? dQuery, bool accumulateQuery, Tensor? dMemory, bool accumulateMemory,
        Tensor? dInProjWeight, Tensor? dInProjBias, Tensor? dOutProjWeight, Tensor? dOutProjBias)
    {
        var device = _device;
        int n = _n, t = _t, s = _s, d = EmbedDim, h = Heads, dh = HeadDim;
        var merged = _merged.Rows(n, t, d);
        var dMerged = _dMerged.Rows(n, t, d);
        device.LinearBackward(merged, outProjWeight, dy, dMerged, dOutProjWeight, dOutProjBias, accumulateDx: false);
        var dContext = _dContext.Rows(n * h, t, dh);
        device.CopyStrided(_views.HeadsOf(dMerged, 1, 0, h), _views.Split(dContext, h));
        var qh = _qh.Rows(n * h, t, dh);
        var kh = _kh.Rows(n * h, s, dh);
        var vh = _vh.Rows(n * h, s, dh);
        var dqh = _dqh.Rows(n * h, t, dh);
        var dkh = _dkh.Rows(n * h, s, dh);
        var dvh = _dvh.Rows(n * h, s, dh);
        float scale = AttentionMath.DefaultScale(dh);
        Tensor? keyPadding = _hasKeyPadding ? _keyPadding.Rows(n, s) : null;
        if (_unfused)
        {
            // output = (P * M) V: dV = (P * M)^T dO, d(P * M) = dO V^T, dP = that * M, then the softmax's and the scores' gradients.
            var weights = _weights.Rows(n * h, t, s);
            var dropped = _dropped.Rows(n * h, t, s);
            var dWeights = _dWeights.Rows(n * h, t, s);
            var dScores = _dScores.Rows(n * h, t, s);
            device.BatchedMatMul(true, false, dropped, dContext, dvh);
            device.BatchedMatMul(false, true, dContext, vh, dScores);
            device.Mul(dScores, _dropMask.Rows(n * h, t, s), dWeights);
            if (s > 0 && t > 0)
            {
                device.SoftmaxBackward(weights, dWeights, dScores, log: false, accumulate: false);
            }
            device.BatchedMatMul(false, false, dScores, kh, dqh, scale);
            device.BatchedMatMul(true, false, dScores, qh, dkh, scale);
        }
        else
        {
            var context = _context.Rows(n * h, t, dh);
            device.AttentionBackward(qh, kh, vh, null, keyPadding, Causal, h, scale, context, _logSumExp.Rows(n * h, t), dContext, dqh, dkh, dvh);
        }
        if (memory is null)
        {
            var dqkv = _dkv.Rows(n, t, 3 * d);
            device.CopyToStrided(_views.Split(dqh, h), _views.HeadsOf(dqkv, 3, 0, h));
            device.CopyToStrided(_views.Split(dkh, h), _views.HeadsOf(dqkv, 3, 1, h));
            device.CopyToStrided(_views.Split(dvh, h), _views.HeadsOf(dqkv, 3, 2, h));
            device.LinearBackward(query, inProjWeight, dqkv, dQuery, dInProjWeight, dInProjBias, accumulateQuery);
            return;
        }
        var dq = _dq.Rows(n, t, d);
        var dkv = _dkv.Rows(n, s, 2 * d);
        device.CopyToStrided(_views.Split(dqh, h), _views.HeadsOf(dq, 1, 0, h));
        device.CopyToStrided(_views.Split(dkh, h), _views.HeadsOf(dkv, 2, 0, h));
        device.CopyToStrided(_views.Split(dvh, h), _views.HeadsOf(dkv, 2, 1, h));
        device.LinearBackward(query, _views.Rows(inProjWeight, 0, d), dq, dQuery, dInProjWeight is null ? null : _views.Rows(dInProjWeight, 0, d),
            dInProjBias is null ? null : _views.Rows(dInProjBias, 0, d), accumulateQuery);
        device.LinearBackward(memory, _views.Rows(inProjWeight, d, 2 * d), dkv, dMemory, dInProjWeight is null ? null : _views.Rows(dInProjWeight, d, 2 * d),
            dInProjBias is null ? null : _views.Rows(dInProjBias, d, 2 * d), accumulateMemory);
    }
}
