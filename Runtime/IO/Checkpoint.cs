using System.Buffers.Binary;
using System.Text;
using System.Text.Json;

namespace Dsl;

/// <summary>
/// Saves and loads a network's parameters and buffers as a safetensors file (https://github.com/huggingface/safetensors:
/// an 8-byte little-endian header length, a JSON header naming each tensor's dtype, shape and byte range, then the raw
/// little-endian data) under PyTorch's state-dict names, so weights move to and from PyTorch without conversion.
/// </summary>
/// <remarks>
/// Saving writes a temporary file beside the target, flushes it to disk and renames it over the target, so a crash
/// mid-write leaves the previous checkpoint intact. Loading validates the whole file (header, dtypes, shapes, byte
/// ranges) and reads every tensor before changing the network, so a bad file is refused with the reason and the
/// network is left as it was.
/// </remarks>
public static class Checkpoint
{
    private const long MaxHeaderBytes = 100L << 20;

    /// <summary>Test hook: runs after the temporary file is written and before it replaces the target.</summary>
    internal static Action<string>? BeforeReplace { get; set; }

    /// <summary>Writes <paramref name="network"/>'s parameters and buffers to <paramref name="path"/>.</summary>
    public static void Save(Module network, string path, IReadOnlyDictionary<string, string>? metadata = null)
    {
        ArgumentNullException.ThrowIfNull(network);
        ArgumentException.ThrowIfNullOrEmpty(path);
        var tensors = StateDict(network);
        var header = new StringBuilder("{");
        long offset = 0;
        var meta = new Dictionary<string, string>(metadata ?? new Dictionary<string, string>()) { ["network"] = network.NetworkName, ["format"] = "pt" };
        header.Append("\"__metadata__\":").Append(JsonSerializer.Serialize(meta));
        foreach (var (name, tensor) in tensors)
        {
            long bytes = tensor.Length * 4;
            header.Append(',').Append(JsonSerializer.Serialize(name)).Append(":{\"dtype\":\"F32\",\"shape\":[")
                .Append(string.Join(",", tensor.Shape)).Append("],\"data_offsets\":[").Append(offset).Append(',').Append(offset + bytes).Append("]}");
            offset += bytes;
        }
        header.Append('}');
        // Pad the header with spaces so the data starts 8-byte aligned, as the format recommends.
        while ((Encoding.UTF8.GetByteCount(header.ToString()) + 8) % 8 != 0)
        {
            header.Append(' ');
        }
        byte[] headerBytes = Encoding.UTF8.GetBytes(header.ToString());

        string full = Path.GetFullPath(path);
        string temp = Path.Combine(Path.GetDirectoryName(full)!, "." + Path.GetFileName(full) + "." + Guid.NewGuid().ToString("N")[..8] + ".tmp");
        try
        {
            using (var stream = new FileStream(temp, FileMode.CreateNew, FileAccess.Write, FileShare.None, 1 << 16, FileOptions.WriteThrough))
            {
                Span<byte> length = stackalloc byte[8];
                BinaryPrimitives.WriteInt64LittleEndian(length, headerBytes.Length);
                stream.Write(length);
                stream.Write(headerBytes);
                foreach (var (_, tensor) in tensors)
                {
                    var values = tensor.ToArray();
                    var raw = new byte[values.Length * 4];
                    for (int i = 0; i < values.Length; i++)
                    {
                        BinaryPrimitives.WriteSingleLittleEndian(raw.AsSpan(i * 4), values[i]);
                    }
                    stream.Write(raw);
                }
                stream.Flush(flushToDisk: true);
            }
            BeforeReplace?.Invoke(temp);
            File.Move(temp, full, overwrite: true);
        }
        finally
        {
            if (File.Exists(temp))
            {
                File.Delete(temp);
            }
        }
    }

    /// <summary>
    /// Loads <paramref name="path"/> into <paramref name="network"/>. With <paramref name="strict"/> (PyTorch's default for
    /// <c>load_state_dict</c>) the file must hold exactly the network's tensors; otherwise extra tensors are ignored and
    /// missing ones keep their current values. Throws <see cref="InvalidDataException"/> naming the file and the reason.
    /// </summary>
    public static void Load(Module network, string path, bool strict = true)
    {
        ArgumentNullException.ThrowIfNull(network);
        if (!File.Exists(path))
        {
            throw new FileNotFoundException($"Checkpoint '{path}' does not exist.", path);
        }
        var file = Read(path);
        var expected = StateDict(network);
        var staged = new List<(Tensor Target, float[] Values)>();
        foreach (var (name, tensor) in expected)
        {
            if (!file.TryGetValue(name, out var entry))
            {
                if (strict)
                {
                    throw Bad(path, $"it has no tensor '{name}' ({network.NetworkName} needs {Tensor.FormatShape(tensor.Dims)})");
                }
                continue;
            }
            if (!entry.Shape.SequenceEqual(tensor.Shape))
            {
                throw Bad(path, $"'{name}' is {Tensor.FormatShape(entry.Shape)} but {network.NetworkName} needs {Tensor.FormatShape(tensor.Dims)}");
            }
            staged.Add((tensor, entry.Values));
        }
        if (strict)
        {
            var unexpected = file.Keys.Except(expected.Select(e => e.Name)).ToList();
            if (unexpected.Count > 0)
            {
                throw Bad(path, $"it has tensors {network.NetworkName} does not: {string.Join(", ", unexpected.Take(5))}{(unexpected.Count > 5 ? ", ..." : "")}");
            }
        }
        foreach (var (target, values) in staged)
        {
            target.Device.Upload(values, target);
        }
    }

    /// <summary>Every tensor of a safetensors file (float32 only), validated.</summary>
    public static IReadOnlyDictionary<string, (int[] Shape, float[] Values)> Read(string path)
    {
        byte[] bytes;
        try
        {
            bytes = File.ReadAllBytes(path);
        }
        catch (IOException e)
        {
            throw Bad(path, e.Message);
        }
        if (bytes.Length < 8)
        {
            throw Bad(path, $"it has {bytes.Length} bytes, fewer than the 8-byte header length");
        }
        long headerLength = BinaryPrimitives.ReadInt64LittleEndian(bytes);
        if (headerLength <= 1 || headerLength > MaxHeaderBytes || headerLength > bytes.Length - 8)
        {
            throw Bad(path, $"its header length {headerLength} does not fit a file of {bytes.Length} bytes (truncated or not a safetensors file)");
        }
        long dataStart = 8 + headerLength;
        long dataLength = bytes.Length - dataStart;
        JsonDocument json;
        try
        {
            json = JsonDocument.Parse(bytes.AsMemory(8, (int)headerLength));
        }
        catch (JsonException e)
        {
            throw Bad(path, $"its header is not valid JSON ({e.Message})");
        }
        using (json)
        {
            if (json.RootElement.ValueKind != JsonValueKind.Object)
            {
                throw Bad(path, "its header is not a JSON object");
            }
            var result = new Dictionary<string, (int[], float[])>();
            var ranges = new List<(long Begin, long End, string Name)>();
            foreach (var property in json.RootElement.EnumerateObject())
            {
                if (property.Name == "__metadata__")
                {
                    continue;
                }
                var (shape, begin, end, dtype) = Entry(path, property);
                if (dtype != "F32")
                {
                    throw Bad(path, $"'{property.Name}' has dtype {dtype}; only F32 is supported");
                }
                long count = shape.Aggregate(1L, (a, b) => a * b);
                if (end - begin != count * 4)
                {
                    throw Bad(path, $"'{property.Name}' spans {end - begin} bytes but {Tensor.FormatShape(shape)} float32 needs {count * 4}");
                }
                if (begin < 0 || end > dataLength)
                {
                    throw Bad(path, $"'{property.Name}' lies at bytes {begin}..{end} but the data holds {dataLength} (truncated?)");
                }
                ranges.Add((begin, end, property.Name));
                var values = new float[count];
                for (long i = 0; i < count; i++)
                {
                    values[i] = BinaryPrimitives.ReadSingleLittleEndian(bytes.AsSpan((int)(dataStart + begin + i * 4), 4));
                }
                if (!result.TryAdd(property.Name, (shape, values)))
                {
                    throw Bad(path, $"'{property.Name}' appears twice");
                }
            }
            ranges.Sort((a, b) => a.Begin.CompareTo(b.Begin));
            for (int i = 1; i < ranges.Count; i++)
            {
                if (ranges[i].Begin < ranges[i - 1].End)
                {
                    throw Bad(path, $"'{ranges[i].Name}' overlaps '{ranges[i - 1].Name}'");
                }
            }
            return result;
        }
    }

    private static (int[] Shape, long Begin, long End, string DType) Entry(string path, JsonProperty property)
    {
        try
        {
            var e = property.Value;
            string dtype = e.GetProperty("dtype").GetString() ?? "";
            int[] shape = e.GetProperty("shape").EnumerateArray().Select(d => d.GetInt32()).ToArray();
            if (shape.Any(d => d < 0))
            {
                throw Bad(path, $"'{property.Name}' has a negative dimension");
            }
            var offsets = e.GetProperty("data_offsets").EnumerateArray().Select(o => o.GetInt64()).ToArray();
            if (offsets.Length != 2 || offsets[1] < offsets[0])
            {
                throw Bad(path, $"'{property.Name}' has invalid data_offsets");
            }
            return (shape, offsets[0], offsets[1], dtype);
        }
        catch (Exception e) when (e is KeyNotFoundException or InvalidOperationException or FormatException)
        {
            throw Bad(path, $"the header entry '{property.Name}' lacks dtype, shape or data_offsets");
        }
    }

    /// <summary>Parameters then buffers, in definition order, with their state-dict names.</summary>
    private static List<(string Name, Tensor Tensor)> StateDict(Module network)
        => network.Parameters.Select(p => (p.Name, p.Value)).Concat(network.Buffers.Select(b => (b.Name, b.Value))).ToList();

    private static InvalidDataException Bad(string path, string reason) => new($"Checkpoint '{path}' is refused: {reason}.");
}
