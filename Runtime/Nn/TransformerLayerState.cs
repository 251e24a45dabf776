namespace Dsl;

/// <summary>
/// The parameters of one Transformer layer as the generated code passes them, in PyTorch's order and names
/// (<c>self_attn.in_proj_weight</c> ... <c>norm2.bias</c>); the decoder's cross-attention and third norm are null in an encoder layer.
/// </summary>
public sealed record TransformerWeights(
    Parameter SelfInProjWeight, Parameter? SelfInProjBias, Parameter SelfOutProjWeight, Parameter? SelfOutProjBias,
    Parameter Linear1Weight, Parameter Linear1Bias, Parameter Linear2Weight, Parameter Linear2Bias,
    Parameter Norm1Weight, Parameter Norm1Bias, Parameter Norm2Weight, Parameter Norm2Bias,
    Parameter? CrossInProjWeight = null, Parameter? CrossInProjBias = null, Parameter? CrossOutProjWeight = null, Parameter? CrossOutProjBias = null,
    Parameter? Norm3Weight = null, Parameter? Norm3Bias = null);

/// <summary>
/// One <c>nn.TransformerEncoderLayer(batch_first=True)</c> or <c>nn.TransformerDecoderLayer(batch_first=True)</c>: self-attention
/// (<see cref="MultiHeadAttentionState"/>), for a decoder cross-attention over a memory, and the feed-forward block
/// linear2(dropout(activation(linear1(x)))), each sub-block wrapped in dropout, a residual connection and a LayerNorm, after
/// the sum (post-norm, PyTorch's default) or before the sub-block (<c>norm_first</c>). Composed from the device's kernels
/// (Linear, LayerNorm, activations, dropout), so both backends share it; every intermediate is a <see cref="SymbolicSlot"/>
/// kept for backward. https://pytorch.org/docs/1.13/generated/torch.nn.TransformerEncoderLayer.html
/// </summary>
public sealed class TransformerLayerState
{
    private readonly Device _device;
    private readonly MultiHeadAttentionState _selfAttention;
    private readonly MultiHeadAttentionState? _crossAttention;
    private readonly SymbolicSlot[] _slots;
    private int _n, _t;
    private bool _training;

    // Values kept for backward, by index into _slots ([N,T,d] unless said).
    private const int
        Norm1In = 0, Sa = 1, SaDropped = 2, R1 = 3, H1 = 4, // post-norm: h1 = norm1(x + drop(sa(x))); pre-norm: n1 = norm1(x), r1 = x + drop(sa(n1))
        Ca = 5, CaDropped = 6, R2 = 7, H2 = 8,               // the decoder's cross-attention block, likewise
        F1 = 9, A1 = 10, A1Dropped = 11,                     // [N,T,ff]
        F2 = 12, F2Dropped = 13, R3 = 14,                    // the feed-forward's output and the last residual sum
        Mask1 = 15, Mask2 = 16, MaskF = 17, MaskF2 = 18,     // dropout masks (MaskF [N,T,ff])
        Mean1 = 19, InvStd1 = 20, Mean2 = 21, InvStd2 = 22, Mean3 = 23, InvStd3 = 24, // [N,T]
        G1 = 25, G2 = 26, G3 = 27, GF1 = 28, GA = 29, GN = 30, // gradients
        Count = 31;

    public TransformerLayerState(Device device, int dModel, int heads, int dimFeedforward, float dropout, ActivationKind activation,
        bool normFirst, float layerNormEps, bool causal, bool decoder = false, bool memoryCausal = false)
    {
        ArgumentNullException.ThrowIfNull(device);
        if (activation is not (ActivationKind.Relu or ActivationKind.Gelu))
        {
            throw new ArgumentException($"TransformerLayer: the activation must be relu or gelu, got {activation}.", nameof(activation));
        }
        if (dimFeedforward < 1)
        {
            throw new ArgumentOutOfRangeException(nameof(dimFeedforward), $"TransformerLayer: dimFeedforward must be positive, got {dimFeedforward}.");
        }
        _device = device;
        DModel = dModel;
        DimFeedforward = dimFeedforward;
        Dropout = dropout;
        Activation = activation;
        NormFirst = normFirst;
        Eps = layerNormEps;
        _selfAttention = new MultiHeadAttentionState(device, dModel, heads, dropout, causal);
        _crossAttention = decoder ? new MultiHeadAttentionState(device, dModel, heads, dropout, memoryCausal) : null;
        _slots = new SymbolicSlot[Count];
        for (int i = 0; i < Count; i++)
        {
            _slots[i] = new SymbolicSlot(device);
        }
    }

    public int DModel { get; }

    /// <summary>The self-attention's weights [N,heads,T,T] of the last Forward, for display (<see cref="MultiHeadAttentionState.Weights()"/>).</summary>
    public Tensor SelfAttentionWeights() => _selfAttention.Weights();

    /// <summary>A decoder's attention weights over the memory [N,heads,T,S] of the last Forward, for display.</summary>
    /// <exception cref="InvalidOperationException">An encoder layer, which has none.</exception>
    public Tensor CrossAttentionWeights() => (_crossAttention ?? throw new InvalidOperationException("An encoder layer has no attention over a memory.")).Weights();

    public int DimFeedforward { get; }

    public float Dropout { get; }

    public ActivationKind Activation { get; }

    public bool NormFirst { get; }

    public float Eps { get; }

    private Tensor Value(int slot) => _slots[slot].Rows(_n, _t, DModel);

    private Tensor Wide(int slot) => _slots[slot].Rows(_n, _t, DimFeedforward);

    private Tensor Stat(int slot) => _slots[slot].Rows(_n, _t);

    /// <summary>y = dropout(x) in training with a dropout above 0 (the mask kept in <paramref name="mask"/>), else x itself.</summary>
    private Tensor Drop(Tensor x, Tensor mask, Tensor y, ulong seed, ulong stream)
    {
        if (!_training || Dropout == 0f)
        {
            return x;
        }
        _device.Dropout(x, mask, y, Dropout, CounterRandom.Derive(seed, stream), group: 1);
        return y;
    }

    /// <summary>dx (+)= the gradient of <see cref="Drop"/> for dy.</summary>
    private void DropBackward(Tensor dy, Tensor mask, Tensor dx, bool accumulate)
        => _device.DropoutBackward(dy, _training && Dropout > 0f ? mask : null, dx, accumulate);

    /// <summary>
    /// Where <paramref name="p"/>'s gradient goes: its <see cref="Parameter.Grad"/> while it is trained, null (not computed, the
    /// gradient left untouched) while it is frozen (<see cref="Module.Freeze"/>) or absent.
    /// </summary>
    private static Tensor? Trained(Parameter? p) => p is { RequiresGrad: true } ? p.Grad : null;

    private void Norm(Tensor x, Parameter weight, Parameter bias, int mean, int invStd, Tensor y)
        => _device.LayerNorm(x, weight.Value, bias.Value, Stat(mean), Stat(invStd), y, _n * _t, DModel, Eps);

    private void NormBackward(Tensor x, Parameter weight, Parameter bias, int mean, int invStd, Tensor dy, Tensor? dx, bool accumulate)
        => _device.LayerNormBackward(x, weight.Value, Stat(mean), Stat(invStd), dy, dx, Trained(weight), Trained(bias), _n * _t, DModel, accumulate);

    /// <summary>
    /// y [N,T,d] from x [N,T,d] (and a decoder's <paramref name="memory"/> [N,S,d]); <paramref name="keyMask"/> [N,T] and
    /// <paramref name="memoryKeyMask"/> [N,S] hold 1 for a real position and 0 for padding.
    /// </summary>
    public void Forward(Tensor x, Tensor? keyMask, Tensor? memory, Tensor? memoryKeyMask, bool training, ulong seed, TransformerWeights w, Tensor y)
    {
        ArgumentNullException.ThrowIfNull(w);
        if (x.Rank != 3 || x.Dims[2] != DModel)
        {
            throw new ArgumentException($"TransformerLayer: the input must be [N,T,{DModel}], got {Tensor.FormatShape(x.Dims)}.");
        }
        if (_crossAttention is not null && memory is null)
        {
            throw new ArgumentException("TransformerDecoderLayer: the memory is missing.");
        }
        _n = x.Dims[0];
        _t = x.Dims[1];
        _training = training;
        var device = _device;
        // The self-attention block.
        Tensor current = x;
        Tensor attnIn = NormFirst ? Value(Norm1In) : x;
        if (NormFirst)
        {
            Norm(x, w.Norm1Weight, w.Norm1Bias, Mean1, InvStd1, attnIn);
        }
        _selfAttention.Forward(attnIn, null, keyMask, training, CounterRandom.Derive(seed, 1), w.SelfInProjWeight.Value, w.SelfInProjBias?.Value,
            w.SelfOutProjWeight.Value, w.SelfOutProjBias?.Value, Value(Sa));
        device.Add(current, Drop(Value(Sa), Value(Mask1), Value(SaDropped), seed, 2), Value(R1));
        if (NormFirst)
        {
            current = Value(R1);
        }
        else
        {
            Norm(Value(R1), w.Norm1Weight, w.Norm1Bias, Mean1, InvStd1, Value(H1));
            current = Value(H1);
        }
        // The decoder's cross-attention block.
        if (_crossAttention is not null)
        {
            Tensor crossIn = current;
            if (NormFirst)
            {
                crossIn = Value(H1);
                Norm(current, w.Norm2Weight, w.Norm2Bias, Mean2, InvStd2, crossIn);
            }
            _crossAttention.Forward(crossIn, memory, memoryKeyMask, training, CounterRandom.Derive(seed, 3), w.CrossInProjWeight!.Value, w.CrossInProjBias?.Value,
                w.CrossOutProjWeight!.Value, w.CrossOutProjBias?.Value, Value(Ca));
            device.Add(current, Drop(Value(Ca), Value(Mask2), Value(CaDropped), seed, 4), Value(R2));
            if (NormFirst)
            {
                current = Value(R2);
            }
            else
            {
                Norm(Value(R2), w.Norm2Weight, w.Norm2Bias, Mean2, InvStd2, Value(H2));
                current = Value(H2);
            }
        }
        // The feed-forward block; its norm is norm2 in an encoder layer, norm3 in a decoder layer.
        var (lastWeight, lastBias) = LastNorm(w);
        Tensor ffIn = current;
        if (NormFirst)
        {
            ffIn = Value(H2);
            Norm(current, lastWeight, lastBias, Mean3, InvStd3, ffIn);
        }
        device.Linear(ffIn, w.Linear1Weight.Value, w.Linear1Bias.Value, Wide(F1));
        device.Activation(Activation, 0f, Wide(F1), Wide(A1));
        var a = Drop(Wide(A1), Wide(MaskF), Wide(A1Dropped), seed, 5);
        device.Linear(a, w.Linear2Weight.Value, w.Linear2Bias.Value, Value(F2));
        var f = Drop(Value(F2), Value(MaskF2), Value(F2Dropped), seed, 6);
        if (NormFirst)
        {
            device.Add(current, f, y);
        }
        else
        {
            device.Add(current, f, Value(R3));
            Norm(Value(R3), lastWeight, lastBias, Mean3, InvStd3, y);
        }
    }

    private (Parameter Weight, Parameter Bias) LastNorm(TransformerWeights w)
        => _crossAttention is null ? (w.Norm2Weight, w.Norm2Bias) : (w.Norm3Weight!, w.Norm3Bias!);

    /// <summary>
    /// The gradients of the last <see cref="Forward"/> from dy: the parameters' accumulate; <paramref name="dx"/> and
    /// <paramref name="dMemory"/> (null when not wanted) are overwritten, or added to when told.
    /// </summary>
    public void Backward(Tensor x, Tensor? memory, TransformerWeights w, Tensor dy, Tensor? dx, bool accumulateDx, Tensor? dMemory, bool accumulateMemory)
    {
        ArgumentNullException.ThrowIfNull(w);
        var device = _device;
        var (lastWeight, lastBias) = LastNorm(w);
        // g: the gradient of the residual stream after the feed-forward block's sum.
        Tensor g = Value(G3);
        if (NormFirst)
        {
            device.Copy(dy, g);
        }
        else
        {
            NormBackward(Value(R3), lastWeight, lastBias, Mean3, InvStd3, dy, g, accumulate: false);
        }
        // Feed-forward: the stream before it receives g directly and through the block.
        Tensor ffIn = NormFirst ? Value(H2) : StreamBeforeFeedForward();
        var dF2 = Value(GN);
        DropBackward(g, Value(MaskF2), dF2, accumulate: false);
        var a = _training && Dropout > 0f ? Wide(A1Dropped) : Wide(A1);
        var dA = Wide(GA);
        device.LinearBackward(a, w.Linear2Weight.Value, dF2, dA, Trained(w.Linear2Weight), Trained(w.Linear2Bias), accumulateDx: false);
        var dF1 = Wide(GF1);
        DropBackward(dA, Wide(MaskF), dA, accumulate: false);
        device.ActivationBackward(Activation, 0f, Wide(F1), Wide(A1), dA, dF1, accumulate: false);
        var gBefore = Value(G2);
        if (NormFirst)
        {
            var dFfIn = Value(GN);
            device.LinearBackward(ffIn, w.Linear1Weight.Value, dF1, dFfIn, Trained(w.Linear1Weight), Trained(w.Linear1Bias), accumulateDx: false);
            device.Copy(g, gBefore);
            NormBackward(StreamBeforeFeedForward(), lastWeight, lastBias, Mean3, InvStd3, dFfIn, gBefore, accumulate: true);
        }
        else
        {
            device.Copy(g, gBefore);
            device.LinearBackward(ffIn, w.Linear1Weight.Value, dF1, gBefore, Trained(w.Linear1Weight), Trained(w.Linear1Bias), accumulateDx: true);
        }
        g = gBefore;
        // The decoder's cross-attention block.
        if (_crossAttention is not null)
        {
            if (!NormFirst)
            {
                // g is the gradient of h2 = norm2(r2); r2 = h1 + drop(ca(h1, memory)).
                var dR2 = Value(G3);
                NormBackward(Value(R2), w.Norm2Weight, w.Norm2Bias, Mean2, InvStd2, g, dR2, accumulate: false);
                g = dR2;
            }
            var dCa = Value(GN);
            DropBackward(g, Value(Mask2), dCa, accumulate: false);
            var crossIn = Value(H1); // norm2(r1) before the block, or h1 = norm1(r1) after it
            var streamBefore = NormFirst ? Value(R1) : Value(H1);
            var next = Value(ReferenceEquals(g, Value(G3)) ? G2 : G3);
            device.Copy(g, next);
            if (NormFirst)
            {
                var dCrossIn = Value(G1);
                _crossAttention.Backward(crossIn, memory, w.CrossInProjWeight!.Value, w.CrossOutProjWeight!.Value, dCa, dCrossIn, false, dMemory, accumulateMemory,
                    Trained(w.CrossInProjWeight), Trained(w.CrossInProjBias), Trained(w.CrossOutProjWeight), Trained(w.CrossOutProjBias));
                NormBackward(streamBefore, w.Norm2Weight, w.Norm2Bias, Mean2, InvStd2, dCrossIn, next, accumulate: true);
            }
            else
            {
                _crossAttention.Backward(crossIn, memory, w.CrossInProjWeight!.Value, w.CrossOutProjWeight!.Value, dCa, next, true, dMemory, accumulateMemory,
                    Trained(w.CrossInProjWeight), Trained(w.CrossInProjBias), Trained(w.CrossOutProjWeight), Trained(w.CrossOutProjBias));
            }
            g = next;
        }
        // The self-attention block: g is the gradient of h1 (post-norm) or r1 (pre-norm).
        if (!NormFirst)
        {
            var dR1 = Value(ReferenceEquals(g, Value(G3)) ? G2 : G3);
            NormBackward(Value(R1), w.Norm1Weight, w.Norm1Bias, Mean1, InvStd1, g, dR1, accumulate: false);
            g = dR1;
        }
        var dSa = Value(GN);
        DropBackward(g, Value(Mask1), dSa, accumulate: false);
        if (NormFirst)
        {
            var dAttnIn = Value(G1);
            _selfAttention.Backward(Value(Norm1In), null, w.SelfInProjWeight.Value, w.SelfOutProjWeight.Value, dSa, dAttnIn, false, null, false,
                Trained(w.SelfInProjWeight), Trained(w.SelfInProjBias), Trained(w.SelfOutProjWeight), Trained(w.SelfOutProjBias));
            if (dx is not null)
            {
                device.PassGradient(g, dx, accumulateDx);
                NormBackward(x, w.Norm1Weight, w.Norm1Bias, Mean1, InvStd1, dAttnIn, dx, accumulate: true);
            }
            else
            {
                NormBackward(x, w.Norm1Weight, w.Norm1Bias, Mean1, InvStd1, dAttnIn, null, accumulate: false);
            }
        }
        else
        {
            if (dx is not null)
            {
                device.PassGradient(g, dx, accumulateDx);
            }
            _selfAttention.Backward(x, null, w.SelfInProjWeight.Value, w.SelfOutProjWeight.Value, dSa, dx, true, null, false,
                Trained(w.SelfInProjWeight), Trained(w.SelfInProjBias), Trained(w.SelfOutProjWeight), Trained(w.SelfOutProjBias));
        }
    }

    /// <summary>The residual stream entering the feed-forward block (its sum's first operand).</summary>
    private Tensor StreamBeforeFeedForward()
        => _crossAttention is null ? (NormFirst ? Value(R1) : Value(H1)) : (NormFirst ? Value(R2) : Value(H2));
}
