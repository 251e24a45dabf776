using System.Text;

namespace Dsl.Tests.OnnxExport;

/// <summary>
/// Reads back what the tests check in an exported model, straight from the protobuf wire format: the opset, the
/// initialisers' names and shapes, and the graph inputs' and outputs' names and dimensions (sizes, or dynamic names).
/// Field numbers from onnx.proto: ModelProto graph = 7, opset_import = 8 (version = 2); GraphProto initializer = 5,
/// input = 11, output = 12; TensorProto dims = 1, name = 8; ValueInfoProto name = 1, type = 2; TypeProto tensor_type = 1;
/// TypeProto.Tensor shape = 2; TensorShapeProto dim = 1; Dimension dim_value = 1, dim_param = 2.
/// </summary>
internal sealed class OnnxModelReader
{
    public long Opset { get; private set; }
    public List<(string Name, long[] Dims)> Initializers { get; } = new();
    public List<(string Name, string[] Dims)> Inputs { get; } = new();
    public List<(string Name, string[] Dims)> Outputs { get; } = new();
    public List<string> OpTypes { get; } = new();

    public static OnnxModelReader Read(byte[] model)
    {
        var reader = new OnnxModelReader();
        foreach (var (field, value, bytes) in Fields(model))
        {
            if (field == 7)
            {
                reader.ReadGraph(bytes!);
            }
            else if (field == 8)
            {
                reader.Opset = Fields(bytes!).Single(f => f.Field == 2).Value;
            }
        }
        return reader;
    }

    private void ReadGraph(byte[] graph)
    {
        foreach (var (field, _, bytes) in Fields(graph))
        {
            switch (field)
            {
                case 1:
                    OpTypes.Add(Text(Fields(bytes!).Single(f => f.Field == 4).Bytes!));
                    break;
                case 5:
                    var tensor = Fields(bytes!).ToList();
                    var dims = tensor.Where(f => f.Field == 1).SelectMany(f => f.Bytes is null ? new[] { f.Value } : Varints(f.Bytes)).ToArray();
                    Initializers.Add((Text(tensor.Single(f => f.Field == 8).Bytes!), dims));
                    break;
                case 11:
                    Inputs.Add(ValueInfo(bytes!));
                    break;
                case 12:
                    Outputs.Add(ValueInfo(bytes!));
                    break;
            }
        }
    }

    private static (string, string[]) ValueInfo(byte[] info)
    {
        var fields = Fields(info).ToList();
        string name = Text(fields.Single(f => f.Field == 1).Bytes!);
        var tensorType = Fields(Fields(fields.Single(f => f.Field == 2).Bytes!).Single(f => f.Field == 1).Bytes!);
        var shape = Fields(tensorType.Single(f => f.Field == 2).Bytes!);
        var dims = shape.Where(f => f.Field == 1).Select(d =>
        {
            var dim = Fields(d.Bytes!).Single();
            return dim.Field == 1 ? dim.Value.ToString(System.Globalization.CultureInfo.InvariantCulture) : "'" + Text(dim.Bytes!) + "'";
        }).ToArray();
        return (name, dims);
    }

    private static string Text(byte[] bytes) => Encoding.UTF8.GetString(bytes);

    /// <summary>The fields of a message: number, and the varint value or the length-delimited bytes (fixed32 skipped).</summary>
    private static IEnumerable<(int Field, long Value, byte[]? Bytes)> Fields(byte[] message)
    {
        int position = 0;
        while (position < message.Length)
        {
            ulong tag = Varint(message, ref position);
            int field = (int)(tag >> 3);
            switch ((int)(tag & 7))
            {
                case 0:
                    yield return (field, (long)Varint(message, ref position), null);
                    break;
                case 2:
                    int length = (int)Varint(message, ref position);
                    yield return (field, 0, message.AsSpan(position, length).ToArray());
                    position += length;
                    break;
                case 5:
                    position += 4;
                    break;
                default:
                    throw new InvalidDataException($"wire type {tag & 7} of field {field} is not one the exporter writes");
            }
        }
    }

    private static long[] Varints(byte[] packed)
    {
        var values = new List<long>();
        int position = 0;
        while (position < packed.Length)
        {
            values.Add((long)Varint(packed, ref position));
        }
        return values.ToArray();
    }

    private static ulong Varint(byte[] bytes, ref int position)
    {
        ulong value = 0;
        for (int shift = 0; ; shift += 7)
        {
            byte b = bytes[position++];
            value |= (ulong)(b & 0x7F) << shift;
            if (b < 0x80)
            {
                return value;
            }
        }
    }
}
