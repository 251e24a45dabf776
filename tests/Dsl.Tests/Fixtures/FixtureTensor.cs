using System.Text.Json;

namespace Dsl.Tests.Fixtures;

/// <summary>A tensor stored in a fixture: its shape and row-major values (float32, or int64 for labels).</summary>
public sealed class FixtureTensor
{
    private FixtureTensor(string name, int[] shape, float[]? floats, long[]? longs)
    {
        Name = name;
        Shape = shape;
        Floats = floats;
        Longs = longs;
    }

    /// <summary>The name the tensor has in its case.</summary>
    public string Name { get; }

    /// <summary>The shape; empty for a scalar.</summary>
    public int[] Shape { get; }

    /// <summary>Number of elements.</summary>
    public int Length => Floats?.Length ?? Longs!.Length;

    /// <summary>The float32 values, or null for an int64 tensor.</summary>
    public float[]? Floats { get; }

    /// <summary>The int64 values, or null for a float32 tensor.</summary>
    public long[]? Longs { get; }

    /// <summary>The float32 values (throws for an int64 tensor).</summary>
    public float[] Data => Floats ?? throw new InvalidOperationException($"{Name} holds int64 values.");

    /// <summary>The values widened to double, for the double-precision references.</summary>
    public double[] ToDoubles() => Data.Select(v => (double)v).ToArray();

    /// <summary>A new tensor on <paramref name="device"/> holding a copy of the values (a scalar becomes shape [1]).</summary>
    public Tensor ToTensor(Device device)
    {
        int[] shape = Shape.Length == 0 ? new[] { 1 } : Shape;
        return Longs is not null ? Tensor.From(Longs, device, shape) : Tensor.From(Data, device, shape);
    }

    /// <summary>Row <paramref name="index"/> of the first dimension (a stacked tensor's entry, e.g. one optimiser step).</summary>
    public float[] Row(int index)
    {
        int inner = Length / Shape[0];
        return Data.AsSpan(index * inner, inner).ToArray();
    }

    internal static FixtureTensor Parse(string name, JsonElement t)
    {
        int[] shape = t.GetProperty("shape").EnumerateArray().Select(e => e.GetInt32()).ToArray();
        bool isLong = t.TryGetProperty("dtype", out var dtype) && dtype.GetString() == "int64";
        var data = t.GetProperty("data");
        long expected = shape.Aggregate(1L, (a, b) => a * b);
        if (data.GetArrayLength() != expected)
        {
            throw new InvalidDataException($"Fixture tensor {name} has shape [{string.Join(",", shape)}] but {data.GetArrayLength()} values.");
        }
        return isLong
            ? new FixtureTensor(name, shape, null, data.EnumerateArray().Select(e => e.GetInt64()).ToArray())
            : new FixtureTensor(name, shape, data.EnumerateArray().Select(e => e.GetSingle()).ToArray(), null);
    }
}
