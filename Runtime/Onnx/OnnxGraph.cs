namespace Dsl;

/// <summary>
/// A network's evaluation forward as an ONNX graph, built by the network's generated <c>DescribeOnnx</c> (one call or a
/// few per layer, written by the layer's op) and serialised by <see cref="Onnx.Export(Module, string)"/>. Values are
/// named as in the generated code (<c>h3_relu</c>), graph inputs and outputs as <c>Forward</c>'s parameters and results,
/// and a name no node produces must be a parameter or buffer of the network (<c>conv1.weight</c>), written as an
/// initialiser. A layer without an ONNX mapping calls <see cref="Refuse"/>: the graph is then never written.
/// </summary>
public sealed class OnnxGraph
{
    private readonly List<(string Name, DType DType, OnnxDim[] Dims)> _inputs = new();
    private readonly List<(string Name, OnnxDim[] Dims)> _outputs = new();
    private readonly List<OnnxNode> _nodes = new();
    private readonly List<OnnxConstant> _constants = new();
    private readonly List<string> _refusals = new();
    private readonly HashSet<string> _defined = new(StringComparer.Ordinal);

    internal OnnxGraph(string name) => Name = name;

    /// <summary>The graph's name: the network's class name.</summary>
    public string Name { get; }

    internal IReadOnlyList<(string Name, DType DType, OnnxDim[] Dims)> Inputs => _inputs;

    internal IReadOnlyList<(string Name, OnnxDim[] Dims)> Outputs => _outputs;

    internal IReadOnlyList<OnnxNode> Nodes => _nodes;

    internal IReadOnlyList<OnnxConstant> Constants => _constants;

    /// <summary>The layers that have no ONNX mapping (<c>[3] Embedding(100, 8) (op Embedding)</c>), in definition order.</summary>
    public IReadOnlyList<string> Refusals => _refusals;

    /// <summary>Declares a graph input: float32 or int64, its first dimension the dynamic batch <c>N</c>.</summary>
    public void Input(string name, DType dtype, params OnnxDim[] dims)
    {
        if (dtype is not (DType.Float32 or DType.Int64))
        {
            throw new ArgumentException($"ONNX input '{name}' has dtype {dtype}; inputs are float32 or int64", nameof(dtype));
        }
        Define(name);
        _inputs.Add((name, dtype, (OnnxDim[])dims.Clone()));
    }

    /// <summary>A node of the default (<c>ai.onnx</c>) domain with one output.</summary>
    public void Node(string opType, string[] inputs, string output, params OnnxAttribute[] attributes)
        => Node(opType, inputs, new[] { output }, attributes);

    /// <summary>
    /// A node of the default (<c>ai.onnx</c>) domain. An empty input name leaves an optional input out, as ONNX allows;
    /// every output name must be new.
    /// </summary>
    public void Node(string opType, string[] inputs, string[] outputs, params OnnxAttribute[] attributes)
    {
        ArgumentException.ThrowIfNullOrEmpty(opType);
        foreach (string output in outputs)
        {
            Define(output);
        }
        _nodes.Add(new OnnxNode(opType, (string[])inputs.Clone(), (string[])outputs.Clone(), (OnnxAttribute[])attributes.Clone()));
    }

    /// <summary>A float32 constant of shape <paramref name="dims"/> (a scalar when none) holding <paramref name="value"/> everywhere.</summary>
    public void Fill(string name, float value, params long[] dims)
    {
        Define(name);
        long count = 1;
        foreach (long d in dims)
        {
            count = checked(count * d);
        }
        var data = new float[count];
        Array.Fill(data, value);
        _constants.Add(new OnnxConstant(name, DType.Float32, (long[])dims.Clone(), data, null));
    }

    /// <summary>A float32 constant of shape <paramref name="dims"/> holding <paramref name="values"/> (a table such as the positional encoding's).</summary>
    public void Floats(string name, float[] values, params long[] dims)
    {
        ArgumentNullException.ThrowIfNull(values);
        Define(name);
        _constants.Add(new OnnxConstant(name, DType.Float32, (long[])dims.Clone(), (float[])values.Clone(), null));
    }

    /// <summary>A one-dimensional int64 constant (shapes, slice bounds, axes).</summary>
    public void Int64s(string name, params long[] values)
    {
        Define(name);
        _constants.Add(new OnnxConstant(name, DType.Int64, new[] { (long)values.Length }, null, (long[])values.Clone()));
    }

    /// <summary>Declares <paramref name="value"/> as the graph output <paramref name="name"/> (an <c>Identity</c> node renames it).</summary>
    public void Output(string value, string name, params OnnxDim[] dims)
    {
        Node("Identity", new[] { value }, name);
        _outputs.Add((name, (OnnxDim[])dims.Clone()));
    }

    /// <summary>
    /// Records that a layer has no ONNX mapping: <paramref name="layer"/> as the summary shows it (<c>[3] emb1: Embedding(100, 8)</c>)
    /// and its op. Export then refuses the network, naming every such layer, and writes nothing.
    /// </summary>
    public void Refuse(string layer, string op) => _refusals.Add($"{layer} (op {op})");

    private void Define(string name)
    {
        ArgumentException.ThrowIfNullOrEmpty(name);
        if (!_defined.Add(name))
        {
            throw new InvalidOperationException($"the ONNX graph of {Name} defines '{name}' twice");
        }
    }

    internal bool IsDefined(string name) => _defined.Contains(name);
}

/// <summary>One node: its op type, input and output value names, and attributes.</summary>
internal sealed record OnnxNode(string OpType, string[] Inputs, string[] Outputs, OnnxAttribute[] Attributes);

/// <summary>A constant of the graph (not a network parameter): float32 or int64 data.</summary>
internal sealed record OnnxConstant(string Name, DType DType, long[] Dims, float[]? Floats, long[]? Longs);
