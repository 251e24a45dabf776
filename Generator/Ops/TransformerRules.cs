using System.Collections.Immutable;
using System.Globalization;
using System.Linq;
using Dsl.Generator.Diagnostics;
using Dsl.Generator.Emit;
using Dsl.Generator.Model;
using Dsl.Generator.Shapes;

namespace Dsl.Generator.Ops;

/// <summary>
/// What the Transformer's built-in layers share (<c>MultiHeadAttention</c>, <c>TransformerEncoderLayer</c>,
/// <c>TransformerDecoderLayer</c>): the checks of the input [N,T,d], the heads, a memory and the key-padding masks
/// (DSL1070-DSL1074), PyTorch's parameter layouts and initialisers, and the emission of the runtime objects that run them
/// (<c>Dsl.MultiHeadAttentionState</c>, <c>Dsl.TransformerLayerState</c>).
/// </summary>
internal static class TransformerRules
{
    /// <summary>What the Transformer ops' backward reads: the input, and the memory when one is given (its projections' weight
    /// gradients); masks and intermediates are kept by the layer's runtime state.</summary>
    public static Keeps InputAndMemory(GraphNode node)
        => node.NetInput("memory") is var k && k >= 0 ? new Keeps(false, 0, k) : Keeps.FirstInput;

    /// <summary>The values fed to the layers: [N,T,d] with d fixed, or the error (DSL1071).</summary>
    public static LayerOutcome? CheckInput(LayerInput i, out ImmutableArray<Dim> dims)
    {
        dims = i.IsSymbolic ? i.Dims : i.Shape.Select(d => Dim.Of(d)).ToImmutableArray();
        if (dims.Length != 2 || !dims[1].IsConstant)
        {
            return LayerOutcome.Fail(Descriptors.TransformerInput, i.Source, "input", "[N,T,d] with a fixed width d", i.Received, i.From);
        }
        return null;
    }

    /// <summary>DSL1070 unless d splits into the heads; DSL0xxx (invalid argument) for heads below 1.</summary>
    public static LayerOutcome? CheckHeads(LayerInput i, long d, long heads)
    {
        if (heads < 1)
        {
            return LayerRules.Invalid(i, $"the number of heads must be positive, got {heads}");
        }
        return d % heads != 0
            ? LayerOutcome.Fail(Descriptors.HeadsDivide, i.Source, i.Received, i.From, LayerRules.Text(d), LayerRules.Text(heads))
            : null;
    }

    /// <summary>A dropout probability in [0, 1) or the error.</summary>
    public static LayerOutcome? CheckDropout(LayerInput i, double p)
        => p >= 0 && p < 1 ? null : LayerRules.Invalid(i, $"the dropout probability must lie in [0, 1), got {LayerArgs.Format(p)}");

    /// <summary>
    /// The memory a layer attends to (keys and values): float32 [N,S,d] with the input's width d (DSL1072; a wrong rank or a
    /// symbolic width is DSL1071). Its length S is returned (the input's T when <paramref name="memory"/> is null).
    /// </summary>
    public static LayerOutcome? CheckMemory(LayerInput i, NetArg? memory, long d, Dim t, out Dim s)
    {
        s = t;
        if (memory is null)
        {
            return null;
        }
        if (memory.DType != NetArg.Float32)
        {
            return LayerOutcome.Fail(Descriptors.TypedInputUse, i.Source, memory.From, memory.DTypeText);
        }
        if (memory.Dims.Length != 2 || !memory.Dims[1].IsConstant)
        {
            return LayerOutcome.Fail(Descriptors.TransformerInput, i.Source, "memory", "[N,S,d] with a fixed width d", memory.Text, memory.From);
        }
        if (memory.Dims[1].Constant != d)
        {
            return LayerOutcome.Fail(Descriptors.MemoryWidth, i.Source, memory.Text, memory.From, LayerRules.Text(d), i.Received, i.From);
        }
        s = memory.Dims[0];
        return null;
    }

    /// <summary>
    /// A key-padding mask given to <paramref name="parameter"/>: a <c>Mask(...)</c> input [N,S] with the keys' length symbol
    /// <paramref name="keys"/> (DSL1073, naming the keys' value <paramref name="keysText"/> from <paramref name="keysFrom"/>).
    /// </summary>
    public static LayerOutcome? CheckKeyPadding(LayerInput i, string parameter, Dim keys, string keysText, string keysFrom)
    {
        var mask = i.Net(parameter);
        if (mask is null || mask.DType == MaskArg.DType && mask.Dims.Length == 1 && mask.Dims[0].Equals(keys))
        {
            return null;
        }
        return LayerOutcome.Fail(Descriptors.KeyPaddingMismatch, i.Source, parameter, mask.Text + (mask.DType == MaskArg.DType ? "" : " (" + mask.DTypeText + ")"),
            mask.From, "[N," + keys + "] from a Mask input", keysText, keysFrom);
    }

    /// <summary>DSL1074: a causal mask needs the queries and the keys to run over the same positions (the same length).</summary>
    public static LayerOutcome? CheckCausal(LayerInput i, bool causal, Dim t, Dim s, string keysText, string keysFrom)
        => causal && !t.Equals(s)
            ? LayerOutcome.Fail(Descriptors.CausalLengths, i.Source, keysText, keysFrom, t.ToString(), s.ToString())
            : null;

    /// <summary>The parameters of <c>nn.MultiheadAttention</c> under <paramref name="prefix"/> (empty or <c>self_attn.</c>), PyTorch's init.</summary>
    public static void AttentionParams(LayerOutcome o, string prefix, long d, bool bias)
    {
        // _reset_parameters: xavier_uniform_ on in_proj_weight (fans d and 3d), zero biases; out_proj keeps Linear's weight init.
        o.Params.Add((prefix + "in_proj_weight", new[] { 3 * d, d }, "xavier", 4 * d));
        if (bias)
        {
            o.Params.Add((prefix + "in_proj_bias", new[] { 3 * d }, "zeros", 0));
        }
        o.Params.Add((prefix + "out_proj.weight", new[] { d, d }, "uniform", d));
        if (bias)
        {
            o.Params.Add((prefix + "out_proj.bias", new[] { d }, "zeros", 0));
        }
    }

    /// <summary>FLOPs per sample of one attention (projections, scores, weighted sum, output), each symbol counted as 1.</summary>
    public static long AttentionFlops(long t, long s, long d)
        => checked(2 * t * d * d + 4 * s * d * d + 4 * t * s * d + 5 * t * s + 2 * t * d * d);

    /// <summary>The field of a node's runtime object: <c>_mha3</c>.</summary>
    public static string Field(GraphNode node, string what) => "_" + what + node.Id.ToString(CultureInfo.InvariantCulture);

    /// <summary>The parameter's field (<c>_encoder1_self_attn_in_proj_weight</c>) or <c>null</c>.</summary>
    public static string Param(GraphNode node, string suffix)
    {
        var p = node.Params.FirstOrDefault(q => q.Name.EndsWith("." + suffix, System.StringComparison.Ordinal));
        return p is null ? "null" : Names.Parameter(p.Name);
    }

    /// <summary>A parameter's value or gradient, or <c>null</c> when the layer has none.</summary>
    public static string Member(GraphNode node, string suffix, string member)
        => Param(node, suffix) is var field && field == "null" ? "null" : field + "." + member;

    /// <summary>
    /// A parameter's gradient as the runtime object takes it: <c>(_attn_in_proj_weight.RequiresGrad ? _attn_in_proj_weight.Grad : null)</c>,
    /// so a frozen parameter's gradient is neither computed nor touched (the state skips a null one), or <c>null</c> when the
    /// layer has no such parameter.
    /// </summary>
    public static string TrainedGrad(GraphNode node, string suffix)
        => Param(node, suffix) is var field && field == "null" ? "null" : $"({field}.RequiresGrad ? {field}.Grad : null)";

    /// <summary>The activation of the feed-forward block as the runtime's enum, or null when not relu/gelu.</summary>
    public static string? Activation(string? name) => name switch
    {
        "relu" => "global::Dsl.ActivationKind.Relu",
        "gelu" => "global::Dsl.ActivationKind.Gelu",
        _ => null,
    };

    /// <summary>A Net argument's local as an argument: <c>null</c> when the call left it out.</summary>
    public static string NetOrNull(string? local) => local ?? "null";
}
