namespace Dsl;

public abstract partial class Module
{
    /// <summary>
    /// Describes the evaluation forward as an ONNX graph: the generator overrides it in every network, each layer writing
    /// its own mapping (or refusing, for a layer that has none). <see cref="Onnx.Export(Module, string)"/> calls it.
    /// </summary>
    protected virtual void DescribeOnnx(OnnxGraph graph)
        => throw new OnnxExportException($"{NetworkName} cannot be exported to ONNX: it was not generated from a [Network] definition.");

    internal void DescribeOnnxGraph(OnnxGraph graph) => DescribeOnnx(graph);
}
