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

    /// <summary>
    /// Writes <paramref name="network"/>'s <see cref="Module.StateDict"/> to <paramref name="path"/> (float32 parameters
    /// and buffers, int64 <c>num_batches_tracked</c>), first removing temporary files that an earlier save of the same
    /// target left when it was killed.
    /// </summary>
    public static void Save(Module network, string path, IReadOnlyDictionary<string, string>? metadata = null)
    {
        ArgumentNullException.ThrowIfNull(network);
        ArgumentException.ThrowIfNullOrEmpty(path);
        string full = Path.GetFullPath(path);
        if (Directory.Exists(full))
        {
            throw new IOException($"Checkpoint '{path}' cannot be written: it is a directory.");
        }
        var tensors = network.StateDict().ToList();
        var header = new StringBuilder("{");
        long offset = 0;
        var meta = new Dictionary<string, string>(metadata ?? new Dictionary<string, string>()) { ["network"] = network.NetworkName, ["format"] = "pt" };
        header.Append("\"__metadata__\":").Append(JsonSerializer.Serialize(meta));
        foreach (var (name, tensor) in tensors)
        {
            long bytes = tensor.Length * ElementBytes(tensor.DType);
            header.Append(',').Append(JsonSerializer.Serialize(name)).Append(":{\"dtype\":\"").Append(DTypeName(tensor.DType)).Append("\",\"shape\":[")
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

        string folder = Path.GetDirectoryName(full)!;
        string prefix = "." + Path.GetFileName(full) + ".";
        RemoveStaleTemporaries(folder, prefix);
        string temp = Path.Combine(folder, prefix + Guid.NewGuid().ToString("N")[..8] + TempSuffix);
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
                    stream.Write(Encode(tensor));
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

    private const string TempSuffix = ".tmp";

    /// <summary>
    /// Deletes <c>.NAME.*.tmp</c> files beside the target that no save is writing: a save killed by SIGKILL cannot delete
    /// its own. A save in progress holds its temporary open with <see cref="FileShare.None"/> (an advisory lock on Unix),
    /// so the probe below fails for it and it is left alone.
    /// </summary>
    private static void RemoveStaleTemporaries(string folder, string prefix)
    {
        if (!Directory.Exists(folder))
        {
            return;
        }
        foreach (string stale in Directory.EnumerateFiles(folder, prefix + "*" + TempSuffix))
        {
            string name = Path.GetFileName(stale);
            // Exactly the pattern Save writes: the prefix, 8 hexadecimal digits, the suffix.
            string middle = name[prefix.Length..^TempSuffix.Length];
            if (middle.Length != 8 || !middle.All(char.IsAsciiHexDigitLower))
            {
                continue;
            }
            try
            {
                using var probe = new FileStream(stale, FileMode.Open, FileAccess.ReadWrite, FileShare.None);
                File.Delete(stale);
            }
            catch (IOException)
            {
                // Being written by another save (or already gone): not stale.
            }
            catch (UnauthorizedAccessException)
            {
                // Not ours to delete.
            }
        }
    }

    /// <summary>
    /// Loads <paramref name="path"/> into <paramref name="network"/>. With <paramref name="strict"/> (PyTorch's default for
    /// <c>load_state_dict</c>) the file must hold exactly the network's tensors; otherwise every tensor whose name and shape
    /// match is loaded and the names left out on either side are returned (PyTorch's <c>strict=False</c>). The file's names
    /// are mapped first, in this order: with <paramref name="prefix"/> (a trunk's names, such as <c>"backbone."</c>) only the
    /// tensors under it are read, with the prefix removed; <paramref name="rename"/> renames single tensors (old name to new,
    /// <see cref="StateDicts.Rename"/>); <paramref name="addPrefix"/> puts a block's name before every name (a trunk saved on
    /// its own, loaded into <c>trunk.*</c>). A name that matches with another shape is refused either way. Throws
    /// <see cref="InvalidDataException"/> naming the file and the reason; the network changes only when the whole load is valid.
    /// </summary>
    public static StateDictLoadResult Load(Module network, string path, bool strict = true, string? prefix = null,
        IReadOnlyDictionary<string, string>? rename = null, string? addPrefix = null)
    {
        ArgumentNullException.ThrowIfNull(network);
        var file = Read(path);
        IReadOnlyDictionary<string, CheckpointTensor> named = file;
        if (prefix is not null)
        {
            named = StateDicts.StripPrefix(named, prefix);
            if (named.Count == 0)
            {
                throw Bad(path, $"it has no tensor under the prefix '{prefix}'");
            }
        }
        if (rename is not null)
        {
            if (!StateDicts.TryRename(named, rename, out named, out string? reason))
            {
                throw Bad(path, reason!);
            }
        }
        if (addPrefix is not null)
        {
            named = StateDicts.AddPrefix(named, addPrefix);
        }
        var state = named.ToDictionary(kv => kv.Key, kv => kv.Value.ToTensor(), StringComparer.Ordinal);
        return network.LoadState(state, strict, reason => Bad(path, reason));
    }

    /// <summary>Every tensor of a safetensors file (F32 and I64), validated.</summary>
    public static IReadOnlyDictionary<string, CheckpointTensor> Read(string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        if (Directory.Exists(path))
        {
            throw new IOException($"Checkpoint '{path}' is a directory, not a file.");
        }
        if (!File.Exists(path))
        {
            throw new FileNotFoundException($"Checkpoint '{path}' does not exist.", path);
        }
        byte[] bytes;
        try
        {
            bytes = File.ReadAllBytes(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
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
        var headerSpan = bytes.AsSpan(8, (int)headerLength);
        if (!System.Text.Unicode.Utf8.IsValid(headerSpan))
        {
            throw Bad(path, "its header is not valid UTF-8");
        }
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
            var result = new Dictionary<string, CheckpointTensor>(StringComparer.Ordinal);
            var ranges = new List<(long Begin, long End, string Name)>();
            foreach (var property in json.RootElement.EnumerateObject())
            {
                if (property.Name == "__metadata__")
                {
                    continue;
                }
                var (shape, begin, end, dtypeName) = Entry(path, property);
                DType dtype = dtypeName switch
                {
                    "F32" => DType.Float32,
                    "I64" => DType.Int64,
                    _ => throw Bad(path, $"'{property.Name}' has dtype {dtypeName}; only F32 and I64 are supported"),
                };
                long size = ElementBytes(dtype);
                long count = 1;
                foreach (int d in shape)
                {
                    if (d != 0 && count > int.MaxValue / d)
                    {
                        throw Bad(path, $"'{property.Name}' has shape {Tensor.FormatShape(shape)}, more elements than one tensor holds");
                    }
                    count *= d;
                }
                if (end - begin != count * size)
                {
                    throw Bad(path, $"'{property.Name}' spans {end - begin} bytes but {Tensor.FormatShape(shape)} {dtypeName} needs {count * size}");
                }
                if (begin < 0 || end > dataLength)
                {
                    throw Bad(path, $"'{property.Name}' lies at bytes {begin}..{end} but the data holds {dataLength} (truncated?)");
                }
                if (result.ContainsKey(property.Name))
                {
                    throw Bad(path, $"'{property.Name}' appears twice");
                }
                ranges.Add((begin, end, property.Name));
                result.Add(property.Name, Decode(bytes.AsSpan((int)(dataStart + begin), (int)(end - begin)), dtype, shape));
            }
            CheckCoverage(path, ranges, dataLength);
            return result;
        }
    }

    /// <summary>
    /// The format requires the tensors to index the whole data buffer: no overlaps, no holes, nothing after the last
    /// tensor. A zero-size tensor occupies no bytes and may sit anywhere inside the buffer.
    /// </summary>
    private static void CheckCoverage(string path, List<(long Begin, long End, string Name)> ranges, long dataLength)
    {
        ranges.Sort((a, b) => a.Begin != b.Begin ? a.Begin.CompareTo(b.Begin) : a.End.CompareTo(b.End));
        long covered = 0;
        string previous = "";
        foreach (var (begin, end, name) in ranges)
        {
            if (begin == end)
            {
                continue;
            }
            if (begin < covered)
            {
                throw Bad(path, $"'{name}' overlaps '{previous}'");
            }
            if (begin > covered)
            {
                throw Bad(path, $"bytes {covered}..{begin} of the data belong to no tensor (a hole before '{name}')");
            }
            covered = end;
            previous = name;
        }
        if (covered != dataLength)
        {
            throw Bad(path, $"{dataLength - covered} bytes follow the last tensor's data (the data holds {dataLength}, the tensors index {covered})");
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
            if (offsets.Length != 2 || offsets[0] < 0 || offsets[1] < offsets[0])
            {
                throw Bad(path, $"'{property.Name}' has invalid data_offsets");
            }
            return (shape, offsets[0], offsets[1], dtype);
        }
        catch (Exception e) when (e is KeyNotFoundException or InvalidOperationException or FormatException)
        {
            throw Bad(path, $"the header entry '{property.Name}' lacks dtype, shape or data_offsets, or they are not numbers that fit");
        }
    }

    private static int ElementBytes(DType dtype) => dtype switch
    {
        DType.Float32 => 4,
        DType.Int64 => 8,
        _ => throw new NotSupportedException($"Checkpoints hold F32 and I64 tensors, not {dtype}."),
    };

    private static string DTypeName(DType dtype) => dtype switch
    {
        DType.Float32 => "F32",
        DType.Int64 => "I64",
        _ => throw new NotSupportedException($"Checkpoints hold F32 and I64 tensors, not {dtype}."),
    };

    private static byte[] Encode(Tensor tensor)
    {
        var raw = new byte[tensor.Length * ElementBytes(tensor.DType)];
        if (tensor.DType == DType.Float32)
        {
            var values = tensor.ToArray();
            for (int i = 0; i < values.Length; i++)
            {
                BinaryPrimitives.WriteSingleLittleEndian(raw.AsSpan(i * 4), values[i]);
            }
        }
        else
        {
            var values = tensor.ToInt64Array();
            for (int i = 0; i < values.Length; i++)
            {
                BinaryPrimitives.WriteInt64LittleEndian(raw.AsSpan(i * 8), values[i]);
            }
        }
        return raw;
    }

    private static CheckpointTensor Decode(ReadOnlySpan<byte> raw, DType dtype, int[] shape)
    {
        if (dtype == DType.Float32)
        {
            var values = new float[raw.Length / 4];
            for (int i = 0; i < values.Length; i++)
            {
                values[i] = BinaryPrimitives.ReadSingleLittleEndian(raw.Slice(i * 4, 4));
            }
            return new CheckpointTensor(shape, dtype, values, null);
        }
        var longs = new long[raw.Length / 8];
        for (int i = 0; i < longs.Length; i++)
        {
            longs[i] = BinaryPrimitives.ReadInt64LittleEndian(raw.Slice(i * 8, 8));
        }
        return new CheckpointTensor(shape, dtype, null, longs);
    }

    private static InvalidDataException Bad(string path, string reason) => new($"Checkpoint '{path}' is refused: {reason}.");
}

/// <summary>One tensor of a safetensors file: its shape and its float32 or int64 values.</summary>
public sealed record CheckpointTensor(int[] Shape, DType DType, float[]? Floats, long[]? Longs)
{
    /// <summary>The values as a CPU tensor.</summary>
    public Tensor ToTensor() => DType == DType.Float32 ? Tensor.From(Floats!, Shape) : Tensor.From(Longs!, Shape);
}
