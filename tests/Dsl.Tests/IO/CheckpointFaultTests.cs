using System.Buffers.Binary;
using System.Text;
using System.Text.Json;
using Dsl.Tests.Networks;
using Specs.Networks;
using Xunit;

namespace Dsl.Tests.IO;

/// <summary>
/// Checkpoint faults found by trying (each refused by name with its reason), PyTorch state dicts with int64 tensors,
/// non-strict and prefixed loads, and state dicts in memory.
/// </summary>
public sealed class CheckpointFaultTests : IDisposable
{
    private readonly string _folder = Directory.CreateTempSubdirectory("dsl-checkpoint-faults-").FullName;

    public void Dispose() => Directory.Delete(_folder, recursive: true);

    private string PathOf(string name) => Path.Combine(_folder, name);

    private static string Fixture(string name) => Path.Combine(AppContext.BaseDirectory, "Fixtures", name);

    /// <summary>A safetensors file built by hand: an 8-byte length, the header text as given, then the data.</summary>
    private string Write(string name, string header, byte[] data)
    {
        byte[] h = Encoding.UTF8.GetBytes(header);
        var bytes = new byte[8 + h.Length + data.Length];
        BinaryPrimitives.WriteInt64LittleEndian(bytes, h.Length);
        h.CopyTo(bytes, 8);
        data.CopyTo(bytes, 8 + h.Length);
        File.WriteAllBytes(PathOf(name), bytes);
        return PathOf(name);
    }

    private static string Entry(string name, string dtype, string shape, long begin, long end)
        => $"\"{name}\":{{\"dtype\":\"{dtype}\",\"shape\":{shape},\"data_offsets\":[{begin},{end}]}}";

    private static InvalidDataException Refused(string path, string reason)
    {
        var e = Assert.Throws<InvalidDataException>(() => Checkpoint.Read(path));
        Assert.Contains(Path.GetFileName(path), e.Message);
        Assert.Contains(reason, e.Message);
        return e;
    }

    [Fact]
    public void Header_with_invalid_utf8_is_refused_by_name()
    {
        Checkpoint.Save(new TinyMlp(Device.Cpu), PathOf("net.safetensors"));
        byte[] bytes = File.ReadAllBytes(PathOf("net.safetensors"));
        int at = Array.IndexOf(bytes, (byte)'f', 8); // inside a tensor name: "fc1.weight"
        bytes[at] = 0xFF;
        File.WriteAllBytes(PathOf("utf8.safetensors"), bytes);
        Refused(PathOf("utf8.safetensors"), "its header is not valid UTF-8");
        Assert.Throws<InvalidDataException>(() => Checkpoint.Load(new TinyMlp(Device.Cpu), PathOf("utf8.safetensors")));
    }

    [Fact]
    public void Trailing_bytes_after_the_data_are_refused()
        => Refused(Write("trailing.safetensors", "{" + Entry("a", "F32", "[1]", 0, 4) + "}", new byte[8]), "4 bytes follow the last tensor's data");

    [Fact]
    public void Hole_between_tensors_is_refused()
        => Refused(Write("hole.safetensors", "{" + Entry("a", "F32", "[1]", 0, 4) + "," + Entry("b", "F32", "[1]", 8, 12) + "}", new byte[12]),
            "bytes 4..8 of the data belong to no tensor");

    [Fact]
    public void Overflowing_element_count_is_refused_not_read_as_empty()
        => Refused(Write("overflow.safetensors", "{" + Entry("a", "F32", "[65536,65536,65536,65536]", 0, 0) + "}", []),
            "more elements than one tensor holds");

    [Fact]
    public void Zero_size_tensors_are_accepted_anywhere_in_the_buffer()
    {
        var file = Checkpoint.Read(Write("empty.safetensors",
            "{" + Entry("a", "F32", "[0]", 0, 0) + "," + Entry("b", "F32", "[1]", 0, 4) + "," + Entry("c", "F32", "[2,0]", 4, 4) + "}",
            BitConverter.GetBytes(1.5f)));
        Assert.Empty(file["a"].Floats!);
        Assert.Equal([1.5f], file["b"].Floats!);
        Assert.Equal([2, 0], file["c"].Shape);
    }

    [Fact]
    public void Directory_is_reported_as_a_directory()
    {
        var load = Assert.Throws<IOException>(() => Checkpoint.Load(new TinyMlp(Device.Cpu), _folder));
        Assert.Contains("is a directory", load.Message);
        var save = Assert.Throws<IOException>(() => Checkpoint.Save(new TinyMlp(Device.Cpu), _folder));
        Assert.Contains("is a directory", save.Message);
    }

    [Fact]
    public void Save_removes_the_temporaries_a_killed_save_left_but_not_one_being_written()
    {
        string killed = PathOf(".net.safetensors.0a1b2c3d.tmp");
        string writing = PathOf(".net.safetensors.99aa88bb.tmp");
        string other = PathOf(".other.safetensors.0a1b2c3d.tmp");
        string notOurs = PathOf(".net.safetensors.mine.tmp");
        foreach (var f in new[] { killed, writing, other, notOurs })
        {
            File.WriteAllBytes(f, new byte[100]);
        }
        using (new FileStream(writing, FileMode.Open, FileAccess.Write, FileShare.None))
        {
            Checkpoint.Save(new TinyMlp(Device.Cpu), PathOf("net.safetensors"));
        }
        Assert.False(File.Exists(killed));
        Assert.True(File.Exists(writing));
        Assert.True(File.Exists(other));
        Assert.True(File.Exists(notOurs));
        Assert.True(File.Exists(PathOf("net.safetensors")));
    }

    [Fact]
    public void PyTorch_batch_norm_state_dict_loads_as_is_with_num_batches_tracked()
    {
        using var json = JsonDocument.Parse(File.ReadAllText(Fixture("bn_net_checkpoint.json")));
        float[] Data(string key) => json.RootElement.GetProperty(key).GetProperty("data").EnumerateArray().Select(v => v.GetSingle()).ToArray();
        var net = new BnNet(Device.Cpu, seed: 5);
        var result = Checkpoint.Load(net, Fixture("bn_net.safetensors"));
        Assert.Empty(result.MissingKeys);
        Assert.Empty(result.UnexpectedKeys);
        Assert.Equal(json.RootElement.GetProperty("num_batches_tracked").GetInt64(), net.StateDict()["bn1.num_batches_tracked"].ToInt64Array()[0]);

        net.Eval();
        var y = net.Forward(Tensor.From(Data("input"), 2, 3, 6, 6)).ToArray();
        var expected = Data("log_probs");
        for (int i = 0; i < y.Length; i++)
        {
            Assert.True(Math.Abs(y[i] - expected[i]) <= 1e-5 + 1e-5 * Math.Abs(expected[i]), $"log_probs[{i}]: {y[i]} vs PyTorch {expected[i]}");
        }

        // Written back with the same names, dtypes and values, int64 counter included.
        Checkpoint.Save(net, PathOf("bn.safetensors"));
        var original = Checkpoint.Read(Fixture("bn_net.safetensors"));
        var saved = Checkpoint.Read(PathOf("bn.safetensors"));
        Assert.Equal(original.Keys.Order(), saved.Keys.Order());
        foreach (var (name, tensor) in original)
        {
            Assert.Equal(tensor.DType, saved[name].DType);
            Assert.Equal(tensor.Shape, saved[name].Shape);
            Assert.Equal(tensor.Floats, saved[name].Floats);
            Assert.Equal(tensor.Longs, saved[name].Longs);
        }
        Assert.Equal(DType.Int64, saved["bn1.num_batches_tracked"].DType);
    }

    /// <summary>The fixture's tensors under new names, written by hand as PyTorch lays them out.</summary>
    private string Rename(string name, Func<string, string?> rename, params (string Name, int[] Shape)[] extra)
    {
        var header = new List<string>();
        var data = new List<byte>();
        void Add(string n, string dtype, int[] shape, byte[] raw)
        {
            header.Add(Entry(n, dtype, "[" + string.Join(",", shape) + "]", data.Count, data.Count + raw.Length));
            data.AddRange(raw);
        }
        foreach (var (n, t) in Checkpoint.Read(Fixture("bn_net.safetensors")))
        {
            if (rename(n) is { } renamed)
            {
                Add(renamed, t.DType == DType.Int64 ? "I64" : "F32", t.Shape,
                    t.Floats is not null ? t.Floats.SelectMany(BitConverter.GetBytes).ToArray() : t.Longs!.SelectMany(BitConverter.GetBytes).ToArray());
            }
        }
        foreach (var (n, shape) in extra)
        {
            Add(n, "F32", shape, new byte[shape.Aggregate(4, (a, b) => a * b)]);
        }
        return Write(name, "{" + string.Join(",", header) + "}", [.. data]);
    }

    [Fact]
    public void Non_strict_load_takes_the_matching_names_and_returns_the_others()
    {
        // A trunk: the convolution and batch norm only, plus a head the network does not have.
        string path = Rename("trunk.safetensors", n => n.StartsWith("fc1.", StringComparison.Ordinal) ? null : n, ("head.weight", [2, 2]));
        var net = new BnNet(Device.Cpu, seed: 5);
        var fc1 = net.StateDict()["fc1.weight"].ToArray();
        Assert.Contains("it has no tensor 'fc1.weight', 'fc1.bias'", Assert.Throws<InvalidDataException>(() => Checkpoint.Load(net, path)).Message);
        Assert.Equal(1f, net.StateDict()["bn1.weight"].ToArray()[0]); // the refused strict load changed nothing

        var result = Checkpoint.Load(net, path, strict: false);
        Assert.Equal(["fc1.weight", "fc1.bias"], result.MissingKeys);
        Assert.Equal(["head.weight"], result.UnexpectedKeys);
        Assert.Equal(Checkpoint.Read(path)["conv1.weight"].Floats, net.StateDict()["conv1.weight"].ToArray());
        Assert.Equal(fc1, net.StateDict()["fc1.weight"].ToArray());
    }

    [Fact]
    public void Matching_name_with_another_shape_is_an_error_naming_both_shapes_even_when_not_strict()
    {
        string path = Rename("shape.safetensors", n => n == "bn1.weight" ? null : n, ("bn1.weight", [5]));
        var e = Assert.Throws<InvalidDataException>(() => Checkpoint.Load(new BnNet(Device.Cpu), path, strict: false));
        Assert.Contains("'bn1.weight' is [5] but BnNet needs [4]", e.Message);
    }

    [Fact]
    public void Prefix_maps_a_trunks_names()
    {
        string path = Rename("prefixed.safetensors", n => "backbone." + n, ("classifier.weight", [3, 3]));
        var net = new BnNet(Device.Cpu, seed: 5);
        var result = Checkpoint.Load(net, path, prefix: "backbone.");
        Assert.Empty(result.MissingKeys);
        Assert.Equal(Checkpoint.Read(Fixture("bn_net.safetensors"))["fc1.weight"].Floats, net.StateDict()["fc1.weight"].ToArray());
        Assert.Contains("no tensor under the prefix 'trunk.'", Assert.Throws<InvalidDataException>(() => Checkpoint.Load(net, path, prefix: "trunk.")).Message);
    }

    [Fact]
    public void State_dict_round_trips_in_memory()
    {
        var source = new ResNet20(Device.Cpu, seed: 1);
        var target = new ResNet20(Device.Cpu, seed: 2);
        var state = source.StateDict();
        Assert.Equal(source.Parameters.Count + source.Buffers.Count + source.Buffers.Count(b => b.Name.EndsWith(".running_mean", StringComparison.Ordinal)), state.Count);
        var result = target.LoadStateDict(state);
        Assert.Empty(result.MissingKeys);
        foreach (var (name, tensor) in state)
        {
            if (tensor.DType == DType.Int64)
            {
                Assert.Equal(tensor.ToInt64Array(), target.StateDict()[name].ToInt64Array());
            }
            else
            {
                Assert.Equal(tensor.ToArray(), target.StateDict()[name].ToArray());
            }
        }

        var partial = state.Where(kv => kv.Key != "fc1.bias").ToDictionary();
        var e = Assert.Throws<ArgumentException>(() => target.LoadStateDict(partial));
        Assert.Contains("ResNet20.LoadStateDict: it has no tensor 'fc1.bias'", e.Message);
        Assert.Equal(["fc1.bias"], target.LoadStateDict(partial, strict: false).MissingKeys);
    }
}
