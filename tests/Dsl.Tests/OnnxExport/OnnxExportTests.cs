using Dsl.Generator.Emit;
using Dsl.Generator.Model;
using Dsl.Generator.Ops;
using Dsl.Tests.Networks;
using Microsoft.ML.OnnxRuntime;
using Specs.Networks;
using Xunit;

namespace Dsl.Tests.OnnxExport;

/// <summary>
/// What an exported model declares (opset, dynamic dimensions, PyTorch's names), refusals of layers without a mapping
/// (named, nothing written), and the output path: atomic replacement and clear errors for a path that cannot be written.
/// </summary>
public class OnnxExportTests
{
    [Fact]
    public void Model_declares_opset_17_a_dynamic_batch_and_pytorch_parameter_names()
    {
        var net = new ResNet20(Device.Cpu, 1);
        var model = OnnxModelReader.Read(OnnxRuntimeCheck.Export(net));
        Assert.Equal(17, model.Opset);
        Assert.Equal(new[] { ("input", new[] { "'N'", "1", "28", "28" }) }, model.Inputs.Select(i => (i.Name, i.Dims)).ToArray(), new InputComparer());
        Assert.Equal("output", Assert.Single(model.Outputs).Name);
        Assert.Equal(new[] { "'N'", "10" }, model.Outputs[0].Dims);
        // Every parameter and running statistic, by its state-dict name and shape; num_batches_tracked is not read by the graph.
        var expected = net.StateDict().Where(p => !p.Key.EndsWith(".num_batches_tracked", StringComparison.Ordinal))
            .Select(p => (p.Key, string.Join(",", p.Value.Shape))).OrderBy(p => p.Key, StringComparer.Ordinal).ToArray();
        var written = model.Initializers.Select(i => (i.Name, string.Join(",", i.Dims))).OrderBy(p => p.Name, StringComparer.Ordinal).ToArray();
        Assert.Equal(expected, written);
        Assert.Contains("conv1.weight", written.Select(w => w.Name));
        Assert.Contains("bn21.running_var", written.Select(w => w.Name));
        Assert.Contains("BatchNormalization", model.OpTypes);
    }

    [Fact]
    public void Onnx_runtime_sees_the_batch_and_a_symbolic_length_as_named_dynamic_dimensions()
    {
        using var session = new InferenceSession(OnnxRuntimeCheck.Export(new SequenceNet(Device.Cpu, 1)));
        Assert.Equal(new[] { "x", "mask", "tokens" }, session.InputNames);
        Assert.Equal(new[] { "N", "T", "" }, session.InputMetadata["x"].SymbolicDimensions);
        Assert.Equal(new[] { -1, -1, 5 }, session.InputMetadata["x"].Dimensions);
        Assert.Equal(typeof(long), session.InputMetadata["tokens"].ElementType);
        Assert.Equal(typeof(float), session.InputMetadata["mask"].ElementType);
        Assert.Equal(new[] { "N", "T", "" }, session.OutputMetadata["output"].SymbolicDimensions);
    }

    [Fact]
    public void An_op_without_a_mapping_writes_a_refusal_naming_the_layer()
    {
        // The base class's Export is what a new op gets until it writes its mapping: a refusal, not a guess.
        var input = Node(0, InputOp.Name, "Input(4)", "");
        var embedding = Node(1, "Embedding", "Embedding(100, 8)", "emb1") with { Inputs = EquatableArray.From(new[] { 0 }) };
        var model = new NetworkModel(null, "K", "public", EquatableArray.From(new[] { input, embedding }), 1,
            EquatableArray<DiagnosticInfo>.Empty, CanEmit: true, HasErrors: false);
        var writer = new CodeWriter();
        new UnmappedOp().Export(new ExportContext(writer, new Plan(model)), embedding);
        Assert.Equal("graph.Refuse(\"[1] emb1: Embedding(100, 8)\", \"Embedding\");\n", writer.ToString());
    }

    [Fact]
    public void Every_spec_of_specs_networks_exports_and_has_an_agreement_test()
    {
        // Every [Network] class of the Specs assembly, found by reflection so a Spec added later cannot be missed.
        var specs = typeof(MnistNet).Assembly.GetTypes()
            .Where(t => t.Namespace == typeof(MnistNet).Namespace && typeof(Module).IsAssignableFrom(t) && !t.IsAbstract)
            .OrderBy(t => t.Name, StringComparer.Ordinal).ToList();
        Assert.True(specs.Count >= 15, $"only {specs.Count} Specs found");
        // The Transformer layers have no ONNX mapping yet: their Specs are refused by name (this fails once they export,
        // and the list goes).
        var refused = specs.Where(t => t.Name is "TransformerSeq2Seq" or "CharTransformer").ToList();
        foreach (var type in refused)
        {
            var net = (Module)Activator.CreateInstance(type, Device.Cpu, 0)!;
            using var stream = new MemoryStream();
            Assert.Contains("Transformer", Assert.Throws<OnnxExportException>(() => Dsl.Onnx.Export(net, stream)).Message, StringComparison.Ordinal);
        }
        specs = specs.Except(refused).ToList();
        foreach (var type in specs)
        {
            var net = (Module)Activator.CreateInstance(type, Device.Cpu, 0)!;
            Assert.NotEmpty(OnnxRuntimeCheck.Export(net));
        }
        // Each is run in ONNX Runtime: the catalog's image Specs, the sequence Specs, and SmallNet among the test networks.
        var checkedTypes = ((IEnumerable<object[]>)OnnxAgreementTests.Specs).Select(row => Specs.Cli.NetworkCatalog.Get((string)row[0]).Create(Device.Cpu, 0).GetType())
            .Concat(OnnxSequenceTests.SequenceSpecs).Append(typeof(SmallNet)).Distinct().OrderBy(t => t.Name, StringComparer.Ordinal);
        Assert.Equal(specs, checkedTypes);
    }

    [Fact]
    public void A_refused_network_names_the_layer_and_writes_nothing()
    {
        string folder = TempFolder();
        string path = Path.Combine(folder, "half.onnx");
        var e = Assert.Throws<OnnxExportException>(() => Dsl.Onnx.Export(new HalfMappedNet(), path));
        Assert.Equal("HalfMappedNet cannot be exported to ONNX: layer [2] emb1: Embedding(100, 8) (op Embedding) has no ONNX mapping. Nothing was written.", e.Message);
        Assert.Empty(Directory.EnumerateFileSystemEntries(folder));
        using var stream = new MemoryStream();
        Assert.Throws<OnnxExportException>(() => Dsl.Onnx.Export(new HalfMappedNet(), stream));
        Assert.Equal(0, stream.Length);
    }

    [Fact]
    public void Several_refused_layers_are_all_named()
    {
        var e = Assert.Throws<OnnxExportException>(() => Dsl.Onnx.Export(new HalfMappedNet(refusals: 2), new MemoryStream()));
        Assert.Contains("layers [2] emb1: Embedding(100, 8) (op Embedding), [3] Lstm(8) (op Lstm) have no ONNX mapping", e.Message);
    }

    [Fact]
    public void A_graph_reading_a_name_that_is_neither_a_value_nor_a_parameter_is_an_internal_error()
    {
        var e = Assert.Throws<InvalidOperationException>(() => Dsl.Onnx.Export(new HalfMappedNet(refusals: 0, weight: "fc9.weight"), new MemoryStream()));
        Assert.Contains("'fc9.weight'", e.Message);
    }

    [Fact]
    public void A_path_in_a_missing_folder_a_folder_or_under_a_file_is_refused_clearly()
    {
        string folder = TempFolder();
        var net = new MnistNet(Device.Cpu, 0);
        var missing = Assert.Throws<DirectoryNotFoundException>(() => Dsl.Onnx.Export(net, Path.Combine(folder, "no", "such", "m.onnx")));
        Assert.Contains("does not exist", missing.Message);
        var directory = Assert.Throws<IOException>(() => Dsl.Onnx.Export(net, folder));
        Assert.Contains("it is a directory", directory.Message);
        string file = Path.Combine(folder, "plain.txt");
        File.WriteAllText(file, "x");
        Assert.Throws<DirectoryNotFoundException>(() => Dsl.Onnx.Export(net, Path.Combine(file, "m.onnx")));
        Assert.Equal(new[] { file }, Directory.EnumerateFileSystemEntries(folder));
    }

    [Fact]
    public void A_failed_write_leaves_the_previous_model_intact_and_no_temporary()
    {
        string folder = TempFolder();
        string path = Path.Combine(folder, "model.onnx");
        File.WriteAllText(path, "previous");
        Dsl.Onnx.BeforeReplace = _ => throw new IOException("disk full (simulated)");
        try
        {
            Assert.Throws<IOException>(() => Dsl.Onnx.Export(new MnistNet(Device.Cpu, 0), path));
        }
        finally
        {
            Dsl.Onnx.BeforeReplace = null;
        }
        Assert.Equal("previous", File.ReadAllText(path));
        Assert.Equal(new[] { path }, Directory.EnumerateFileSystemEntries(folder));
        Dsl.Onnx.Export(new MnistNet(Device.Cpu, 0), path);
        Assert.Equal(OnnxRuntimeCheck.Export(new MnistNet(Device.Cpu, 0)), File.ReadAllBytes(path));
    }

    [Fact]
    public void A_folder_that_refuses_writing_is_one_clear_io_error()
    {
        // As root the permission bits would not stop a write, so the refusal is simulated where the rename would fail.
        string folder = TempFolder();
        string path = Path.Combine(folder, "model.onnx");
        Dsl.Onnx.BeforeReplace = _ => throw new UnauthorizedAccessException($"Access to the path '{path}' is denied.");
        try
        {
            var e = Assert.Throws<IOException>(() => Dsl.Onnx.Export(new MnistNet(Device.Cpu, 0), path));
            Assert.Equal($"ONNX model '{path}' cannot be written: Access to the path '{path}' is denied.", e.Message);
        }
        finally
        {
            Dsl.Onnx.BeforeReplace = null;
        }
        Assert.Empty(Directory.EnumerateFileSystemEntries(folder));
    }

    private static string TempFolder()
    {
        string folder = Path.Combine(Path.GetTempPath(), "dsl-onnx-" + Guid.NewGuid().ToString("N")[..8]);
        Directory.CreateDirectory(folder);
        return folder;
    }

    private static GraphNode Node(int id, string op, string label, string name)
        => new(id, op, EquatableArray<int>.Empty, EquatableArray.From(new[] { 4 }), label, name,
            EquatableArray<ParamSpec>.Empty, EquatableArray<Attr>.Empty, 0, new LocationInfo("", default, default));

    /// <summary>An op as another change adds it before it has an ONNX mapping.</summary>
    private sealed class UnmappedOp : Op
    {
        public override string Key => "Embedding";

        public override Keeps BackwardReads(GraphNode node) => Keeps.Nothing;

        public override void Forward(ForwardContext c, GraphNode node) => c.Line("// forward");

        public override void Backward(BackwardContext c, GraphNode node) => c.Line("// backward");
    }

    /// <summary>What a generated DescribeOnnx writes for a network whose later layers have no mapping.</summary>
    private sealed class HalfMappedNet : Module
    {
        private readonly int _refusals;
        private readonly string _weight;

        public HalfMappedNet(int refusals = 1, string weight = "fc1.weight") : base(Device.Cpu, 0)
        {
            _refusals = refusals;
            _weight = weight;
            AddParameter("fc1.weight", Tensor.From(new float[24], 8, 3));
        }

        public override string NetworkName => "HalfMappedNet";

        public override Tensor Forward(Tensor input) => throw new NotSupportedException();

        public override void Backward(Tensor gradOutput) => throw new NotSupportedException();

        protected override void DescribeOnnx(OnnxGraph graph)
        {
            graph.Input("input", DType.Float32, "N", 3);
            graph.Node("Gemm", new[] { "input", _weight }, "h1_linear", OnnxAttribute.Int("transB", 1));
            if (_refusals > 0)
            {
                graph.Refuse("[2] emb1: Embedding(100, 8)", "Embedding");
            }
            if (_refusals > 1)
            {
                graph.Refuse("[3] Lstm(8)", "Lstm");
            }
            graph.Output("h1_linear", "output", "N", 8);
        }
    }

    private sealed class InputComparer : IEqualityComparer<(string, string[])>
    {
        public bool Equals((string, string[]) a, (string, string[]) b) => a.Item1 == b.Item1 && a.Item2.SequenceEqual(b.Item2);

        public int GetHashCode((string, string[]) value) => value.Item1.GetHashCode();
    }
}
