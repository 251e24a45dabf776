namespace Dsl;

/// <summary>A network the ONNX exporter cannot express: the message names each layer without a mapping (op and label).</summary>
public sealed class OnnxExportException : Exception
{
    public OnnxExportException(string message) : base(message)
    {
    }
}
