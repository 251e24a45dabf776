using System.Buffers.Binary;
using System.Text;

namespace Dsl;

/// <summary>
/// The protocol-buffers wire format, as much of it as writing an ONNX model needs: varints, 32-bit floats and
/// length-delimited fields (strings, bytes, packed repeated scalars, nested messages). Export only writes, so this
/// replaces a protobuf library and its generated classes (https://protobuf.dev/programming-guides/encoding/).
/// </summary>
internal sealed class ProtoWriter
{
    private const int Varint = 0;
    private const int Fixed32 = 5;
    private const int LengthDelimited = 2;

    private byte[] _buffer = new byte[256];
    private int _length;

    public int Length => _length;

    public ReadOnlySpan<byte> Written => _buffer.AsSpan(0, _length);

    /// <summary>An int32 / int64 / enum field (negative values take ten bytes, as protobuf encodes them).</summary>
    public void Int(int field, long value)
    {
        Tag(field, Varint);
        WriteVarint((ulong)value);
    }

    public void Float(int field, float value)
    {
        Tag(field, Fixed32);
        Span<byte> bytes = Reserve(4);
        BinaryPrimitives.WriteSingleLittleEndian(bytes, value);
    }

    public void String(int field, string value) => Bytes(field, Encoding.UTF8.GetBytes(value));

    public void Bytes(int field, ReadOnlySpan<byte> value)
    {
        Tag(field, LengthDelimited);
        WriteVarint((ulong)value.Length);
        value.CopyTo(Reserve(value.Length));
    }

    /// <summary>A nested message: written by <paramref name="body"/> into its own buffer, then copied in with its length.</summary>
    public void Message(int field, Action<ProtoWriter> body)
    {
        var inner = new ProtoWriter();
        body(inner);
        Bytes(field, inner.Written);
    }

    /// <summary>A packed repeated int64 field (<c>repeated int64 dims</c>, <c>ints</c>).</summary>
    public void PackedInts(int field, ReadOnlySpan<long> values)
    {
        var inner = new ProtoWriter();
        foreach (long v in values)
        {
            inner.WriteVarint((ulong)v);
        }
        Bytes(field, inner.Written);
    }

    /// <summary>A packed repeated float field (<c>floats</c>).</summary>
    public void PackedFloats(int field, ReadOnlySpan<float> values)
    {
        Tag(field, LengthDelimited);
        WriteVarint((ulong)values.Length * 4);
        Span<byte> bytes = Reserve(values.Length * 4);
        for (int i = 0; i < values.Length; i++)
        {
            BinaryPrimitives.WriteSingleLittleEndian(bytes.Slice(i * 4), values[i]);
        }
    }

    private void Tag(int field, int wireType) => WriteVarint(((ulong)field << 3) | (uint)wireType);

    private void WriteVarint(ulong value)
    {
        Span<byte> bytes = stackalloc byte[10];
        int n = 0;
        while (value >= 0x80)
        {
            bytes[n++] = (byte)(value | 0x80);
            value >>= 7;
        }
        bytes[n++] = (byte)value;
        bytes.Slice(0, n).CopyTo(Reserve(n));
    }

    private Span<byte> Reserve(int count)
    {
        if (_length + count > _buffer.Length)
        {
            long size = Math.Max((long)_buffer.Length * 2, (long)_length + count);
            if (size > Array.MaxLength)
            {
                throw new InvalidOperationException($"an ONNX message would exceed {Array.MaxLength} bytes, protobuf's 2 GiB limit");
            }
            Array.Resize(ref _buffer, (int)size);
        }
        var span = _buffer.AsSpan(_length, count);
        _length += count;
        return span;
    }
}
