using System.Buffers.Binary;
using System.Text;
using System.Text.Json;
using Dsl.Tests.Networks;
using Specs.Networks;
using Xunit;

namespace Dsl.Tests.IO;

/// <summary>Safetensors checkpoints: round trips, a file written by PyTorch, refusals with reasons, and crash safety.</summary>
public sealed class CheckpointTests : IDisposable
{
    private readonly string _folder = Directory.CreateTempSubdirectory("dsl-checkpoint-").FullName;

    public void Dispose() => Directory.Delete(_folder, recursive: true);

    private string PathOf(string name) => Path.Combine(_folder, name);

    private static float[] Outputs(Module net, Tensor x)
    {
        net.Eval();
        return net.Forward(x).ToArray();
    }

    private static Tensor RandomImages(int n, int seed)
    {
        var rng = new Random(seed);
        return Tensor.From(Enumerable.Range(0, n * 784).Select(_ => (float)rng.NextDouble()).ToArray(), n, 1, 28, 28);
    }

    [Fact]
    public void Saved_network_loads_into_a_differently_seeded_one_and_computes_the_same()
    {
        var trained = new ResNet20(Device.Cpu, seed: 1);
        var x = RandomImages(3, 5);
        // One training step so the batch-norm running statistics (buffers) differ from their initial values.
        var loss = Loss.Nll(trained.Forward(x), Tensor.From(new long[] { 1, 2, 3 }, 3));
        trained.Backward(loss.Gradient);
        new Sgd(trained.Parameters, 0.1f).Step();
        Checkpoint.Save(trained, PathOf("resnet.safetensors"));

        var restored = new ResNet20(Device.Cpu, seed: 2);
        Assert.NotEqual(Outputs(trained, x), Outputs(restored, x));
        Checkpoint.Load(restored, PathOf("resnet.safetensors"));
        Assert.Equal(Outputs(trained, x), Outputs(restored, x));
        Assert.Equal(trained.Buffers[0].Value.ToArray(), restored.Buffers[0].Value.ToArray());
    }

    [Fact]
    public void File_lists_PyTorch_names_and_layouts_with_an_aligned_header()
    {
        Checkpoint.Save(new MnistNet(Device.Cpu), PathOf("mnist.safetensors"));
        var bytes = File.ReadAllBytes(PathOf("mnist.safetensors"));
        long headerLength = BinaryPrimitives.ReadInt64LittleEndian(bytes);
        Assert.Equal(0, (8 + headerLength) % 8);
        using var header = JsonDocument.Parse(Encoding.UTF8.GetString(bytes, 8, (int)headerLength));
        Assert.Equal("[10,1,5,5]", header.RootElement.GetProperty("conv1.weight").GetProperty("shape").GetRawText());
        Assert.Equal("[50,320]", header.RootElement.GetProperty("fc1.weight").GetProperty("shape").GetRawText());
        Assert.Equal("MnistNet", header.RootElement.GetProperty("__metadata__").GetProperty("network").GetString());
        Assert.Equal(8 + headerLength + 21_840 * 4, bytes.Length);
    }

    [Fact]
    public void Checkpoint_written_by_PyTorch_gives_PyTorch_outputs()
    {
        string folder = Path.Combine(AppContext.BaseDirectory, "Fixtures");
        var net = new TinyMlp(Device.Cpu, seed: 3);
        Checkpoint.Load(net, Path.Combine(folder, "tiny_mlp.safetensors"));
        using var json = JsonDocument.Parse(File.ReadAllText(Path.Combine(folder, "tiny_mlp_checkpoint.json")));
        float[] Data(string key) => json.RootElement.GetProperty(key).GetProperty("data").EnumerateArray().Select(v => v.GetSingle()).ToArray();
        var y = Outputs(net, Tensor.From(Data("input"), 4, 6));
        var expected = Data("log_probs");
        for (int i = 0; i < y.Length; i++)
        {
            Assert.True(Math.Abs(y[i] - expected[i]) <= 1e-5 + 1e-5 * Math.Abs(expected[i]), $"log_probs[{i}]: {y[i]} vs PyTorch {expected[i]}");
        }
    }

    [Fact]
    public void Crash_before_the_rename_leaves_the_old_checkpoint_intact_and_no_temporary_file()
    {
        var first = new MnistNet(Device.Cpu, seed: 1);
        Checkpoint.Save(first, PathOf("net.safetensors"));
        byte[] before = File.ReadAllBytes(PathOf("net.safetensors"));
        Checkpoint.BeforeReplace = _ => throw new IOException("simulated crash");
        try
        {
            Assert.Throws<IOException>(() => Checkpoint.Save(new MnistNet(Device.Cpu, seed: 2), PathOf("net.safetensors")));
        }
        finally
        {
            Checkpoint.BeforeReplace = null;
        }
        Assert.Equal(before, File.ReadAllBytes(PathOf("net.safetensors")));
        Assert.Single(Directory.GetFiles(_folder));
    }

    public static TheoryData<string, string> Corruptions => new()
    {
        { "truncated", "does not fit|lies at bytes" },
        { "short", "fewer than the 8-byte header length" },
        { "garbage-header", "not valid JSON" },
        { "wrong-shape", "is [10,1,25,1] but MnistNet needs [10,1,5,5]" },
        { "missing", "has no tensor 'fc2.bias'" },
        { "extra", "has tensors MnistNet does not: extra.weight" },
        { "dtype", "has dtype F16" },
        { "overlap", "overlaps" },
        { "trailing", "4 bytes follow the last tensor's data" },
    };

    [Theory]
    [MemberData(nameof(Corruptions))]
    public void Corrupt_file_is_refused_with_the_reason_and_the_network_is_unchanged(string corruption, string reason)
    {
        var source = new MnistNet(Device.Cpu, seed: 1);
        Checkpoint.Save(source, PathOf("good.safetensors"));
        byte[] good = File.ReadAllBytes(PathOf("good.safetensors"));
        byte[] bad = Corrupt(good, corruption);
        File.WriteAllBytes(PathOf("bad.safetensors"), bad);

        var target = new MnistNet(Device.Cpu, seed: 9);
        var x = RandomImages(2, 1);
        var beforeLoad = Outputs(target, x);
        var e = Assert.Throws<InvalidDataException>(() => Checkpoint.Load(target, PathOf("bad.safetensors")));
        Assert.Contains("bad.safetensors", e.Message);
        Assert.True(reason.Split('|').Any(r => e.Message.Contains(r, StringComparison.Ordinal)), $"'{e.Message}' does not give the reason '{reason}'");
        Assert.Equal(beforeLoad, Outputs(target, x));
    }

    [Fact]
    public void Missing_file_is_refused_by_name() =>
        Assert.Contains("nothing.safetensors", Assert.Throws<FileNotFoundException>(() => Checkpoint.Load(new TinyMlp(Device.Cpu), PathOf("nothing.safetensors"))).Message);

    /// <summary>Rewrites the header of a good file (or cuts it) to make one kind of damage.</summary>
    private static byte[] Corrupt(byte[] good, string corruption)
    {
        long headerLength = BinaryPrimitives.ReadInt64LittleEndian(good);
        string header = Encoding.UTF8.GetString(good, 8, (int)headerLength);
        byte[] data = good[(int)(8 + headerLength)..];
        switch (corruption)
        {
            case "truncated":
                return good[..(good.Length - 100)];
            case "short":
                return good[..5];
            case "garbage-header":
                return Rebuild("{\"conv1.weight\": [", data);
            case "wrong-shape":
                // The same number of elements, so the file stays well formed and only the shape is wrong.
                return Rebuild(header.Replace("\"conv1.weight\":{\"dtype\":\"F32\",\"shape\":[10,1,5,5],\"data_offsets\":[0,1000]}",
                    "\"conv1.weight\":{\"dtype\":\"F32\",\"shape\":[10,1,25,1],\"data_offsets\":[0,1000]}"), data);
            case "missing":
                var doc = JsonSerializer.Deserialize<Dictionary<string, JsonElement>>(header)!;
                doc.Remove("fc2.bias");
                // fc2.bias is the last tensor: its 40 bytes go too, or they would be refused as trailing bytes.
                return Rebuild(JsonSerializer.Serialize(doc), data[..^40]);
            case "extra":
                var more = JsonSerializer.Deserialize<Dictionary<string, JsonElement>>(header)!;
                more["extra.weight"] = JsonSerializer.Deserialize<JsonElement>($"{{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[{data.Length},{data.Length + 4}]}}");
                return Rebuild(JsonSerializer.Serialize(more), [.. data, 0, 0, 128, 63]);
            case "dtype":
                return Rebuild(header.Replace("\"dtype\":\"F32\",\"shape\":[10]", "\"dtype\":\"F16\",\"shape\":[10]"), data);
            case "trailing":
                return Rebuild(header, [.. data, 1, 2, 3, 4]);
            default: // overlap: conv1.bias claims conv1.weight's bytes
                return Rebuild(header.Replace("\"conv1.bias\":{\"dtype\":\"F32\",\"shape\":[10],\"data_offsets\":[1000,1040]}",
                    "\"conv1.bias\":{\"dtype\":\"F32\",\"shape\":[10],\"data_offsets\":[960,1000]}"), data);
        }
    }

    private static byte[] Rebuild(string header, byte[] data)
    {
        var h = Encoding.UTF8.GetBytes(header);
        var result = new byte[8 + h.Length + data.Length];
        BinaryPrimitives.WriteInt64LittleEndian(result, h.Length);
        h.CopyTo(result, 8);
        data.CopyTo(result, 8 + h.Length);
        return result;
    }
}
