namespace Dsl;

/// <summary>
/// An attribute of an ONNX node (<c>AttributeProto</c>): a name and one int, float, string, list of ints or list of strings.
/// Generated <c>DescribeOnnx</c> members build them with <see cref="Int"/>, <see cref="Ints"/>, <see cref="Float"/>,
/// <see cref="String"/> and <see cref="Strings"/> (an RNN's activations).
/// </summary>
public sealed class OnnxAttribute
{
    private OnnxAttribute(string name, OnnxAttributeKind kind, long integer = 0, float number = 0, string? text = null, long[]? integers = null,
        string[]? texts = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(name);
        Name = name;
        Kind = kind;
        Integer = integer;
        Number = number;
        Text = text;
        Integers = integers ?? Array.Empty<long>();
        Texts = texts ?? Array.Empty<string>();
    }

    public string Name { get; }

    internal OnnxAttributeKind Kind { get; }

    internal long Integer { get; }

    internal float Number { get; }

    internal string? Text { get; }

    internal long[] Integers { get; }

    internal string[] Texts { get; }

    public static OnnxAttribute Int(string name, long value) => new(name, OnnxAttributeKind.Int, integer: value);

    public static OnnxAttribute Ints(string name, params long[] values) => new(name, OnnxAttributeKind.Ints, integers: (long[])values.Clone());

    public static OnnxAttribute Float(string name, float value) => new(name, OnnxAttributeKind.Float, number: value);

    public static OnnxAttribute String(string name, string value) => new(name, OnnxAttributeKind.String, text: value);

    public static OnnxAttribute Strings(string name, params string[] values) => new(name, OnnxAttributeKind.Strings, texts: (string[])values.Clone());

    /// <summary>Writes the <c>AttributeProto</c>: name = 1, f = 2, i = 3, s = 4, ints = 8, strings = 9, type = 20.</summary>
    internal void Write(ProtoWriter w)
    {
        w.String(1, Name);
        switch (Kind)
        {
            case OnnxAttributeKind.Float:
                w.Float(2, Number);
                break;
            case OnnxAttributeKind.Int:
                w.Int(3, Integer);
                break;
            case OnnxAttributeKind.String:
                w.String(4, Text!);
                break;
            case OnnxAttributeKind.Ints:
                w.PackedInts(8, Integers);
                break;
            case OnnxAttributeKind.Strings:
                foreach (string text in Texts)
                {
                    w.String(9, text);
                }
                break;
            default:
                throw new InvalidOperationException($"attribute '{Name}' has no writer for kind {Kind}");
        }
        w.Int(20, (int)Kind);
    }
}

/// <summary>The <c>AttributeProto.AttributeType</c> values this writer uses.</summary>
internal enum OnnxAttributeKind
{
    Float = 1,
    Int = 2,
    String = 3,
    Ints = 7,
    Strings = 8,
}
