using System.Runtime.InteropServices;

namespace Dsl;

/// <summary>
/// Writes a network as an ONNX model (https://onnx.ai, opset <see cref="Opset"/>): its evaluation forward, with the batch
/// a dynamic dimension <c>N</c> (and every symbolic dimension of the DSL a dynamic dimension of its name), PyTorch's
/// parameter names as initialiser names, and the inputs and outputs named as in the generated <c>Forward</c>
/// (<c>input</c> or each declared input's name; <c>output</c>, or each name of <c>Outputs(...)</c>).
/// </summary>
/// <remarks>
/// Each layer's mapping lives with its op in the generator, which writes it into the network's <c>DescribeOnnx</c>. A
/// network with a layer that has no mapping is refused with an <see cref="OnnxExportException"/> naming the layer, before
/// anything is written. Writing to a path goes through a temporary file renamed over the target, as checkpoints do.
/// </remarks>
public static class Onnx
{
    /// <summary>The operator set the exporter writes.</summary>
    public const int Opset = 17;

    /// <summary>The IR version that goes with opset 17 (ONNX 1.12).</summary>
    private const int IrVersion = 8;

    private const string TempSuffix = ".tmp";

    /// <summary>
    /// Test hook: runs after the temporary file is written and before it replaces the target. Per thread, so a test that
    /// sets it cannot fail an export another test runs at the same time.
    /// </summary>
    internal static Action<string>? BeforeReplace
    {
        get => s_beforeReplace;
        set => s_beforeReplace = value;
    }

    [ThreadStatic]
    private static Action<string>? s_beforeReplace;

    /// <summary>Writes <paramref name="network"/> to <paramref name="path"/>, atomically; refuses (and writes nothing) when a layer has no mapping.</summary>
    public static void Export(Module network, string path)
    {
        ArgumentNullException.ThrowIfNull(network);
        ArgumentException.ThrowIfNullOrEmpty(path);
        string full = Path.GetFullPath(path);
        if (Directory.Exists(full))
        {
            throw new IOException($"ONNX model '{path}' cannot be written: it is a directory.");
        }
        string folder = Path.GetDirectoryName(full)!;
        if (!Directory.Exists(folder))
        {
            throw new DirectoryNotFoundException($"ONNX model '{path}' cannot be written: the folder '{folder}' does not exist.");
        }
        // The whole model is built before the file is opened: a refusal leaves nothing behind.
        byte[] model = Serialize(network);
        string temp = Path.Combine(folder, "." + Path.GetFileName(full) + "." + Guid.NewGuid().ToString("N")[..8] + TempSuffix);
        try
        {
            using (var stream = new FileStream(temp, FileMode.CreateNew, FileAccess.Write, FileShare.None, 1 << 16, FileOptions.WriteThrough))
            {
                stream.Write(model);
                stream.Flush(flushToDisk: true);
            }
            BeforeReplace?.Invoke(temp);
            File.Move(temp, full, overwrite: true);
        }
        catch (UnauthorizedAccessException e)
        {
            throw new IOException($"ONNX model '{path}' cannot be written: {e.Message}", e);
        }
        finally
        {
            if (File.Exists(temp))
            {
                File.Delete(temp);
            }
        }
    }

    /// <summary>Writes <paramref name="network"/> to <paramref name="stream"/>; refuses (and writes nothing) when a layer has no mapping.</summary>
    public static void Export(Module network, Stream stream)
    {
        ArgumentNullException.ThrowIfNull(network);
        ArgumentNullException.ThrowIfNull(stream);
        byte[] model = Serialize(network);
        stream.Write(model);
    }

    /// <summary>The graph the network describes, checked: refusals throw, every name resolves.</summary>
    internal static OnnxGraph Describe(Module network)
    {
        var graph = new OnnxGraph(network.NetworkName);
        network.DescribeOnnxGraph(graph);
        if (graph.Refusals.Count > 0)
        {
            throw new OnnxExportException($"{network.NetworkName} cannot be exported to ONNX: "
                + (graph.Refusals.Count == 1 ? "layer " + graph.Refusals[0] + " has" : "layers " + string.Join(", ", graph.Refusals) + " have")
                + " no ONNX mapping. Nothing was written.");
        }
        return graph;
    }

    /// <summary>The model's bytes (a <c>ModelProto</c>).</summary>
    internal static byte[] Serialize(Module network)
    {
        var graph = Describe(network);
        var state = network.StateDict();
        var initializers = new List<string>();
        var seen = new HashSet<string>(StringComparer.Ordinal);
        foreach (var node in graph.Nodes)
        {
            foreach (string input in node.Inputs)
            {
                if (input.Length == 0 || graph.IsDefined(input) || !seen.Add(input))
                {
                    continue;
                }
                if (!state.ContainsKey(input))
                {
                    throw new InvalidOperationException(
                        $"the ONNX graph of {network.NetworkName} reads '{input}' at a {node.OpType} node, which is neither a value of the graph nor a parameter or buffer of the network");
                }
                initializers.Add(input);
            }
        }

        var model = new ProtoWriter();
        model.Int(1, IrVersion);
        model.String(2, "Dsl");
        model.String(3, typeof(Onnx).Assembly.GetName().Version?.ToString() ?? "0");
        model.Message(7, g => WriteGraph(g, graph, initializers.Select(name => (name, state[name]))));
        model.Message(8, opset =>
        {
            opset.String(1, "");
            opset.Int(2, Opset);
        });
        return model.Written.ToArray();
    }

    /// <summary><c>GraphProto</c>: node = 1, name = 2, initializer = 5, input = 11, output = 12.</summary>
    private static void WriteGraph(ProtoWriter w, OnnxGraph graph, IEnumerable<(string Name, Tensor Value)> initializers)
    {
        foreach (var node in graph.Nodes)
        {
            w.Message(1, n =>
            {
                foreach (string input in node.Inputs)
                {
                    n.String(1, input);
                }
                foreach (string output in node.Outputs)
                {
                    n.String(2, output);
                }
                n.String(3, node.Outputs[0]);
                n.String(4, node.OpType);
                foreach (var attribute in node.Attributes)
                {
                    n.Message(5, attribute.Write);
                }
            });
        }
        w.String(2, graph.Name);
        foreach (var (name, tensor) in initializers)
        {
            if (tensor.DType != DType.Float32)
            {
                throw new InvalidOperationException($"'{name}' is {tensor.DType}; the graph reads float32 parameters only");
            }
            float[] data = tensor.ToArray();
            w.Message(5, t => WriteTensor(t, name, DType.Float32, tensor.Shape.Select(d => (long)d).ToArray(), MemoryMarshal.AsBytes(data.AsSpan())));
        }
        foreach (var constant in graph.Constants)
        {
            w.Message(5, t => WriteTensor(t, constant.Name, constant.DType, constant.Dims,
                constant.Floats is not null ? MemoryMarshal.AsBytes(constant.Floats.AsSpan()) : MemoryMarshal.AsBytes(constant.Longs.AsSpan())));
        }
        foreach (var (name, dtype, dims) in graph.Inputs)
        {
            w.Message(11, v => WriteValueInfo(v, name, dtype, dims));
        }
        foreach (var (name, dims) in graph.Outputs)
        {
            w.Message(12, v => WriteValueInfo(v, name, DType.Float32, dims));
        }
    }

    /// <summary><c>TensorProto</c>: dims = 1, data_type = 2, name = 8, raw_data = 9 (little-endian).</summary>
    private static void WriteTensor(ProtoWriter w, string name, DType dtype, long[] dims, ReadOnlySpan<byte> raw)
    {
        if (!BitConverter.IsLittleEndian)
        {
            throw new PlatformNotSupportedException("ONNX raw tensor data is little-endian; this exporter writes it from a little-endian machine only");
        }
        if (dims.Length > 0)
        {
            w.PackedInts(1, dims);
        }
        w.Int(2, ElementType(dtype));
        w.String(8, name);
        w.Bytes(9, raw);
    }

    /// <summary>
    /// <c>ValueInfoProto</c> (name = 1, type = 2) with <c>TypeProto.tensor_type</c> = 1 (elem_type = 1, shape = 2) and each
    /// <c>TensorShapeProto.dim</c> = 1 a <c>dim_value</c> (1) or a <c>dim_param</c> (2).
    /// </summary>
    private static void WriteValueInfo(ProtoWriter w, string name, DType dtype, OnnxDim[] dims)
    {
        w.String(1, name);
        w.Message(2, type => type.Message(1, tensor =>
        {
            tensor.Int(1, ElementType(dtype));
            tensor.Message(2, shape =>
            {
                foreach (var dim in dims)
                {
                    shape.Message(1, d =>
                    {
                        if (dim.Symbol is null)
                        {
                            d.Int(1, dim.Size);
                        }
                        else
                        {
                            d.String(2, dim.Symbol);
                        }
                    });
                }
            });
        }));
    }

    /// <summary><c>TensorProto.DataType</c>: FLOAT = 1, INT64 = 7.</summary>
    private static int ElementType(DType dtype) => dtype switch
    {
        DType.Float32 => 1,
        DType.Int64 => 7,
        _ => throw new InvalidOperationException($"no ONNX element type is written for {dtype}"),
    };
}
