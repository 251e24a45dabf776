using System.IO.Compression;
using Dsl.Data;
using Xunit;

namespace Dsl.Tests.Data;

public class IdxTests
{
    private static byte[] RandomBytes(int n, int seed)
    {
        var data = new byte[n];
        new Random(seed).NextBytes(data);
        return data;
    }

    /// <summary>A header for unsigned bytes of the given sizes, built by hand (independently of Idx.Write).</summary>
    private static byte[] Header(byte type, params int[] sizes)
    {
        var h = new List<byte> { 0, 0, type, (byte)sizes.Length };
        foreach (int s in sizes)
        {
            h.AddRange(new[] { (byte)(s >> 24), (byte)(s >> 16), (byte)(s >> 8), (byte)s });
        }
        return h.ToArray();
    }

    private static void WriteGz(string path, byte[] content)
    {
        using var f = File.Create(path);
        using var gz = new GZipStream(f, CompressionLevel.Fastest);
        gz.Write(content);
    }

    private static IdxFormatException Refused(string path)
    {
        var e = Assert.Throws<IdxFormatException>(() => Idx.Read(path));
        Assert.Contains(path, e.Message);
        Assert.Equal(path, e.FilePath);
        return e;
    }

    [Theory]
    [InlineData("a.idx")]
    [InlineData("a.idx.gz")]
    public void Write_then_Read_round_trips_shape_and_bytes(string name)
    {
        using var tmp = new TempFolder();
        var data = RandomBytes(3 * 5 * 7, seed: 1);
        Idx.Write(tmp.File(name), [3, 5, 7], data);
        var read = Idx.Read(tmp.File(name));
        Assert.Equal(new[] { 3, 5, 7 }, read.Shape);
        Assert.Equal(data, read.Data);
        Assert.Equal(new[] { 3, 5, 7 }, Idx.ReadShape(tmp.File(name)));
    }

    [Fact]
    public void Gzip_is_detected_by_magic_bytes_not_by_name()
    {
        using var tmp = new TempFolder();
        var data = RandomBytes(4 * 6, seed: 2);
        WriteGz(tmp.File("compressed-but-named-plain"), [.. Header(0x08, 4, 6), .. data]);
        File.WriteAllBytes(tmp.File("plain-but-named.gz"), [.. Header(0x08, 4, 6), .. data]);
        Assert.Equal(data, Idx.Read(tmp.File("compressed-but-named-plain")).Data);
        Assert.Equal(data, Idx.Read(tmp.File("plain-but-named.gz")).Data);
    }

    [Fact]
    public void Missing_file_is_refused_naming_it()
    {
        using var tmp = new TempFolder();
        string path = tmp.File("nope-idx1-ubyte.gz");
        var e = Assert.Throws<FileNotFoundException>(() => Idx.Read(path));
        Assert.Contains(path, e.Message);
    }

    [Fact]
    public void Bad_magic_is_refused()
    {
        using var tmp = new TempFolder();
        string path = tmp.File("bad.gz");
        var content = Header(0x08, 2);
        content[0] = 0x42;
        WriteGz(path, [.. content, 1, 2]);
        Assert.Contains("bad magic", Refused(path).Reason);
    }

    [Fact]
    public void Float_elements_are_refused_as_unsupported_type()
    {
        using var tmp = new TempFolder();
        string path = tmp.File("floats");
        File.WriteAllBytes(path, [.. Header(0x0D, 2), .. new byte[8]]);
        var e = Refused(path);
        Assert.Contains("unsupported element type 0x0d (float32)", e.Reason);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Truncated_data_is_refused(bool gzip)
    {
        using var tmp = new TempFolder();
        string path = tmp.File("short");
        byte[] content = [.. Header(0x08, 10, 28, 28), .. RandomBytes(10 * 28 * 28 - 1, 3)];
        if (gzip)
        {
            WriteGz(path, content);
        }
        else
        {
            File.WriteAllBytes(path, content);
        }
        var e = Refused(path);
        Assert.Contains("truncated", e.Reason);
        Assert.Contains("7840", e.Reason);
        Assert.Contains("7839", e.Reason);
    }

    [Fact]
    public void Truncated_header_is_refused()
    {
        using var tmp = new TempFolder();
        string path = tmp.File("header");
        File.WriteAllBytes(path, Header(0x08, 10, 28, 28)[..9]);
        Assert.Contains("truncated header", Refused(path).Reason);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Trailing_garbage_is_refused(bool gzip)
    {
        using var tmp = new TempFolder();
        string path = tmp.File("long");
        byte[] content = [.. Header(0x08, 5), .. RandomBytes(5 + 3, 4)];
        if (gzip)
        {
            WriteGz(path, content);
        }
        else
        {
            File.WriteAllBytes(path, content);
        }
        var e = Refused(path);
        Assert.Contains("3 bytes of trailing garbage", e.Reason);
    }

    [Theory]
    [InlineData(-1, 28)]
    [InlineData(100_000_000, 100)]
    public void Absurd_sizes_are_refused_before_allocating(int count, int size)
    {
        using var tmp = new TempFolder();
        string path = tmp.File("absurd.gz");
        WriteGz(path, [.. Header(0x08, count, size), 1, 2, 3]);
        Assert.Contains("absurd size", Refused(path).Reason);
    }

    [Fact]
    public void Rank_zero_is_refused()
    {
        using var tmp = new TempFolder();
        string path = tmp.File("rank0");
        File.WriteAllBytes(path, [0, 0, 8, 0, 1]);
        Assert.Contains("absurd rank 0", Refused(path).Reason);
    }

    [Fact]
    public void Corrupt_gzip_stream_is_refused_naming_the_file()
    {
        using var tmp = new TempFolder();
        string path = tmp.File("corrupt.gz");
        WriteGz(path, [.. Header(0x08, 4000), .. RandomBytes(4000, 5)]);
        var bytes = File.ReadAllBytes(path);
        for (int i = 20; i < bytes.Length - 20; i += 7)
        {
            bytes[i] ^= 0x5A;
        }
        File.WriteAllBytes(path, bytes);
        var e = Assert.Throws<IdxFormatException>(() => Idx.Read(path));
        Assert.Contains(path, e.Message);
    }
}
