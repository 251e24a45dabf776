namespace Dsl.Data.Seq2Seq;

/// <summary>
/// A counter-based random stream for the generators: draw i is <see cref="CounterRandom.Bits"/>(key, i), so a
/// stream is fixed by its key on every machine and .NET version (unlike <see cref="Random"/>'s sequence).
/// </summary>
public sealed class SeededRandom(ulong key)
{
    private ulong _counter;

    /// <summary>The next 64 random bits.</summary>
    public ulong NextBits() => CounterRandom.Bits(key, _counter++);

    /// <summary>A uniform integer in [0, <paramref name="count"/>).</summary>
    public int Below(int count)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(count, 1);
        return (int)(((UInt128)NextBits() * (ulong)count) >> 64);
    }

    /// <summary>A uniform integer in [<paramref name="min"/>, <paramref name="max"/>].</summary>
    public int Between(int min, int max) => min + Below(max - min + 1);

    /// <summary>A uniform double in [0, 1).</summary>
    public double NextDouble() => (NextBits() >> 11) * (1.0 / (1UL << 53));
}
