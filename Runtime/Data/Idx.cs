using System.Buffers.Binary;
using System.IO.Compression;

namespace Dsl.Data;

/// <summary>
/// Reads and writes the IDX format of MNIST and Fashion-MNIST (http://yann.lecun.com/exdb/mnist/): a magic
/// number 0x0000TTRR (TT the element type, RR the rank), RR big-endian int32 sizes, then the elements.
/// Only unsigned bytes (type 0x08) are supported: that is what image and label files hold. Files may be
/// plain or gzip-compressed; gzip is detected by its magic bytes 1f 8b, not by the file name.
/// </summary>
/// <remarks>
/// Every inconsistency is refused with an <see cref="IdxFormatException"/> rather than read as far as it goes:
/// a file with fewer elements than its header promises, or with bytes after them, is a damaged or wrong file.
/// </remarks>
public static class Idx
{
    /// <summary>The largest element count accepted (1 GiB): larger headers are treated as corrupt.</summary>
    public const long MaxElements = 1L << 30;

    private const int UnsignedByte = 0x08;
    private const int MaxRank = 8;

    /// <summary>Reads a whole IDX file, plain or gzip-compressed.</summary>
    /// <exception cref="FileNotFoundException">The file does not exist.</exception>
    /// <exception cref="IdxFormatException">The file is not a well-formed unsigned-byte IDX file.</exception>
    public static IdxArray Read(string path)
    {
        ArgumentNullException.ThrowIfNull(path);
        if (!File.Exists(path))
        {
            throw new FileNotFoundException($"{path}: IDX file not found.", path);
        }
        using var file = File.OpenRead(path);
        return Read(file, path, file.Length);
    }

    /// <summary>
    /// Reads only the header of an IDX file: its shape. Cheap even for large compressed files, so callers can
    /// check counts before loading.
    /// </summary>
    public static int[] ReadShape(string path)
    {
        ArgumentNullException.ThrowIfNull(path);
        if (!File.Exists(path))
        {
            throw new FileNotFoundException($"{path}: IDX file not found.", path);
        }
        using var file = File.OpenRead(path);
        try
        {
            using var stream = Open(file, path, out _);
            return ReadHeader(stream, path, out _);
        }
        catch (InvalidDataException e)
        {
            throw new IdxFormatException(path, $"corrupt gzip data ({e.Message}).", e);
        }
    }

    /// <summary>Reads an IDX array from a seekable <paramref name="stream"/>; <paramref name="name"/> is used in messages.</summary>
    public static IdxArray Read(Stream stream, string name)
    {
        ArgumentNullException.ThrowIfNull(stream);
        return Read(stream, name, stream.CanSeek ? stream.Length - stream.Position : -1);
    }

    private static IdxArray Read(Stream raw, string name, long rawLength)
    {
        try
        {
            return ReadBody(raw, name, rawLength);
        }
        catch (InvalidDataException e)
        {
            // GZipStream's own complaint (bad block, bad checksum), reported with the file it came from.
            throw new IdxFormatException(name, $"corrupt gzip data ({e.Message}).", e);
        }
    }

    private static IdxArray ReadBody(Stream raw, string name, long rawLength)
    {
        long rawStart = raw.Position;
        using var stream = Open(raw, name, out bool compressed);
        var shape = ReadHeader(stream, name, out long count);
        if (!compressed && rawLength >= 0)
        {
            long available = rawLength - HeaderLength(shape.Length);
            if (available < count)
            {
                throw Truncated(name, shape, count, available);
            }
        }

        // A compressed file's true length is only known by inflating it, so grow the buffer with the data
        // actually read instead of trusting the header with one big allocation.
        byte[] data = new byte[compressed ? Math.Min(count, 1 << 20) : count];
        long filled = 0;
        while (filled < count)
        {
            if (filled == data.Length)
            {
                Array.Resize(ref data, (int)Math.Min(count, (long)data.Length * 2));
            }
            int n = stream.Read(data, (int)filled, data.Length - (int)filled);
            if (n == 0)
            {
                throw Truncated(name, shape, count, filled);
            }
            filled += n;
        }
        long extra = 0;
        var sink = new byte[4096];
        int read;
        while ((read = stream.Read(sink, 0, sink.Length)) > 0)
        {
            extra += read;
        }
        if (extra > 0)
        {
            throw new IdxFormatException(name, $"{extra} bytes of trailing garbage after the {count} elements of {Tensor.FormatShape(shape)}.");
        }
        if (compressed)
        {
            CheckGzipTrailer(raw, rawStart, rawLength, name, shape, data);
        }
        return new IdxArray(name, shape, data);
    }

    /// <summary>
    /// Checks the gzip trailer (RFC 1952: CRC-32 and length mod 2^32 of the inflated bytes, the file's last 8 bytes)
    /// against what was inflated: the decompressor accepts a file cut inside its trailer without a word. A file of
    /// several concatenated gzip members is refused too (the trailer covers the last member only); IDX files are one.
    /// </summary>
    private static void CheckGzipTrailer(Stream raw, long rawStart, long rawLength, string name, int[] shape, byte[] data)
    {
        if (rawLength < 18)
        {
            throw new IdxFormatException(name, $"truncated gzip file: {rawLength} bytes cannot hold a gzip header and its 8-byte trailer.");
        }
        Span<byte> trailer = stackalloc byte[8];
        raw.Seek(rawStart + rawLength - 8, SeekOrigin.Begin);
        raw.ReadExactly(trailer);
        uint storedCrc = BinaryPrimitives.ReadUInt32LittleEndian(trailer);
        uint storedLength = BinaryPrimitives.ReadUInt32LittleEndian(trailer[4..]);

        // The inflated bytes are the IDX header (rebuilt from the shape) followed by the data.
        var header = new byte[HeaderLength(shape.Length)];
        header[2] = UnsignedByte;
        header[3] = (byte)shape.Length;
        for (int i = 0; i < shape.Length; i++)
        {
            BinaryPrimitives.WriteInt32BigEndian(header.AsSpan(4 + 4 * i), shape[i]);
        }
        uint crc = Crc32.Append(Crc32.Append(Crc32.Initial, header), data);
        uint length = unchecked((uint)(header.Length + data.LongLength));
        crc = Crc32.Finish(crc);
        if (crc != storedCrc || length != storedLength)
        {
            throw new IdxFormatException(name,
                $"the gzip trailer does not match the data (CRC-32 {storedCrc:x8} and length {storedLength} stored, {crc:x8} and {length} inflated): the file is cut inside its 8-byte trailer or corrupt.");
        }
    }

    /// <summary>
    /// Writes an unsigned-byte IDX file, gzip-compressed when <paramref name="path"/> ends in <c>.gz</c>.
    /// </summary>
    public static void Write(string path, ReadOnlySpan<int> shape, ReadOnlySpan<byte> data)
    {
        ArgumentNullException.ThrowIfNull(path);
        if (shape.Length is < 1 or > MaxRank)
        {
            throw new ArgumentException($"An IDX array has 1 to {MaxRank} dimensions, got {shape.Length}.", nameof(shape));
        }
        if (Tensor.CheckedLength(shape) != data.Length)
        {
            throw new ArgumentException($"Shape {Tensor.FormatShape(shape)} does not hold {data.Length} elements.", nameof(data));
        }
        var header = new byte[HeaderLength(shape.Length)];
        header[2] = UnsignedByte;
        header[3] = (byte)shape.Length;
        for (int i = 0; i < shape.Length; i++)
        {
            BinaryPrimitives.WriteInt32BigEndian(header.AsSpan(4 + 4 * i), shape[i]);
        }
        using var file = File.Create(path);
        using Stream output = path.EndsWith(".gz", StringComparison.OrdinalIgnoreCase)
            ? new GZipStream(file, CompressionLevel.Optimal)
            : file;
        output.Write(header);
        output.Write(data);
    }

    private static int HeaderLength(int rank) => 4 + 4 * rank;

    private static Stream Open(Stream raw, string name, out bool compressed)
    {
        if (!raw.CanSeek)
        {
            throw new ArgumentException($"{name}: the stream must be seekable.", nameof(raw));
        }
        Span<byte> magic = stackalloc byte[2];
        int got = raw.ReadAtLeast(magic, 2, throwOnEndOfStream: false);
        raw.Seek(-got, SeekOrigin.Current);
        compressed = got == 2 && magic[0] == 0x1f && magic[1] == 0x8b;
        return compressed ? new GZipStream(raw, CompressionMode.Decompress, leaveOpen: true) : new NonClosing(raw);
    }

    private static int[] ReadHeader(Stream stream, string name, out long count)
    {
        Span<byte> magic = stackalloc byte[4];
        int got = stream.ReadAtLeast(magic, 4, throwOnEndOfStream: false);
        if (got < 4)
        {
            throw new IdxFormatException(name, $"too short for an IDX header ({got} bytes).");
        }
        if (magic[0] != 0 || magic[1] != 0)
        {
            throw new IdxFormatException(name, $"bad magic number 0x{magic[0]:x2}{magic[1]:x2}{magic[2]:x2}{magic[3]:x2}: an IDX file starts with two zero bytes, a type byte and a rank.");
        }
        if (magic[2] != UnsignedByte)
        {
            throw new IdxFormatException(name, $"unsupported element type 0x{magic[2]:x2} ({TypeName(magic[2])}); only unsigned bytes (0x08) are supported.");
        }
        int rank = magic[3];
        if (rank is < 1 or > MaxRank)
        {
            throw new IdxFormatException(name, $"absurd rank {rank}: expected 1 to {MaxRank} dimensions.");
        }
        Span<byte> sizes = stackalloc byte[4 * rank];
        if (stream.ReadAtLeast(sizes, sizes.Length, throwOnEndOfStream: false) < sizes.Length)
        {
            throw new IdxFormatException(name, $"truncated header: {rank} dimension sizes promised but the file ends first.");
        }
        var shape = new int[rank];
        count = 1;
        for (int i = 0; i < rank; i++)
        {
            shape[i] = BinaryPrimitives.ReadInt32BigEndian(sizes.Slice(4 * i));
            if (shape[i] < 0)
            {
                throw new IdxFormatException(name, $"absurd size {shape[i]} for dimension {i}.");
            }
            count *= shape[i];
            if (count > MaxElements)
            {
                throw new IdxFormatException(name, $"absurd sizes {Tensor.FormatShape(shape.AsSpan(0, i + 1))}...: more than {MaxElements} elements.");
            }
        }
        return shape;
    }

    private static IdxFormatException Truncated(string name, int[] shape, long count, long available)
        => new(name, $"truncated: the header promises {Tensor.FormatShape(shape)} = {count} elements but only {Math.Max(available, 0)} follow.");

    private static string TypeName(byte type) => type switch
    {
        0x09 => "signed byte",
        0x0B => "int16",
        0x0C => "int32",
        0x0D => "float32",
        0x0E => "float64",
        _ => "unknown",
    };

    /// <summary>Lets a plain file be read through the same <c>using</c> as a <see cref="GZipStream"/> without closing it twice.</summary>
    private sealed class NonClosing(Stream inner) : Stream
    {
        public override bool CanRead => true;
        public override bool CanSeek => false;
        public override bool CanWrite => false;
        public override long Length => throw new NotSupportedException();
        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }
        public override void Flush() { }
        public override int Read(byte[] buffer, int offset, int count) => inner.Read(buffer, offset, count);
        public override int Read(Span<byte> buffer) => inner.Read(buffer);
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();
        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    }
}

/// <summary>CRC-32 (ISO-HDLC, reflected polynomial 0xEDB88320) as gzip's trailer uses it.</summary>
internal static class Crc32
{
    private static readonly uint[] Table = BuildTable();

    public const uint Initial = 0xFFFFFFFFu;

    public static uint Append(uint crc, ReadOnlySpan<byte> bytes)
    {
        foreach (byte b in bytes)
        {
            crc = Table[(crc ^ b) & 0xFF] ^ (crc >> 8);
        }
        return crc;
    }

    public static uint Finish(uint crc) => crc ^ 0xFFFFFFFFu;

    private static uint[] BuildTable()
    {
        var table = new uint[256];
        for (uint n = 0; n < 256; n++)
        {
            uint c = n;
            for (int k = 0; k < 8; k++)
            {
                c = (c & 1) != 0 ? 0xEDB88320u ^ (c >> 1) : c >> 1;
            }
            table[n] = c;
        }
        return table;
    }
}
