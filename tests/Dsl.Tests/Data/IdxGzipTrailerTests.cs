using System.IO.Compression;
using Dsl.Data;
using Xunit;

namespace Dsl.Tests.Data;

/// <summary>
/// The gzip trailer (CRC-32 and length of the inflated bytes, RFC 1952) is checked: .NET's decompressor accepts a
/// file cut inside it without a word.
/// </summary>
public sealed class IdxGzipTrailerTests
{
    private static byte[] Gzipped(int count, int seed)
    {
        var content = new byte[8 + count];
        content[2] = 0x08;
        content[3] = 1;
        content[4] = (byte)(count >> 24);
        content[5] = (byte)(count >> 16);
        content[6] = (byte)(count >> 8);
        content[7] = (byte)count;
        new Random(seed).NextBytes(content.AsSpan(8));
        using var memory = new MemoryStream();
        using (var gz = new GZipStream(memory, CompressionLevel.Fastest, leaveOpen: true))
        {
            gz.Write(content);
        }
        return memory.ToArray();
    }

    [Fact]
    public void Intact_file_loads()
    {
        using var tmp = new TempFolder();
        File.WriteAllBytes(tmp.File("ok.gz"), Gzipped(3000, 1));
        Assert.Equal([3000], Idx.Read(tmp.File("ok.gz")).Shape);
    }

    [Theory]
    [InlineData(1)]
    [InlineData(4)]
    [InlineData(7)]
    public void File_cut_inside_its_trailer_is_refused_by_name(int cut)
    {
        using var tmp = new TempFolder();
        string path = tmp.File("cut-idx1-ubyte.gz");
        var bytes = Gzipped(3000, 2);
        File.WriteAllBytes(path, bytes[..^cut]);
        var e = Assert.Throws<IdxFormatException>(() => Idx.Read(path));
        Assert.Contains(path, e.Message);
        Assert.Contains("gzip trailer", e.Reason);
    }

    [Fact]
    public void Wrong_crc_is_refused_by_name()
    {
        using var tmp = new TempFolder();
        string path = tmp.File("crc.gz");
        var bytes = Gzipped(3000, 3);
        bytes[^8] ^= 0x40;
        File.WriteAllBytes(path, bytes);
        var e = Assert.Throws<IdxFormatException>(() => Idx.Read(path));
        Assert.Contains(path, e.Message);
        // The decompressor checks a complete trailer itself; either check may report it.
        Assert.True(e.Reason.Contains("gzip trailer", StringComparison.Ordinal) || e.Reason.Contains("corrupt gzip data", StringComparison.Ordinal), e.Reason);
    }
}
