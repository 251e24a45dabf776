namespace Dsl;

/// <summary>
/// A counter-based random generator: the value for (seed, index) is a pure function, so dropout masks
/// and initial weights are the same on every device, every thread count and every run with the same seed.
/// SplitMix64's finaliser (Steele, Lea and Flood, 2014) mixes the counter; its output passes BigCrush.
/// Written with plain integer arithmetic so ILGPU kernels can call it too.
/// </summary>
public static class CounterRandom
{
    /// <summary>64 well-mixed bits for (seed, index).</summary>
    public static ulong Bits(ulong seed, ulong index)
    {
        ulong z = seed + (index + 1UL) * 0x9E3779B97F4A7C15UL;
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        return z ^ (z >> 31);
    }

    /// <summary>A float uniform on [0, 1) with 24 random bits.</summary>
    public static float Uniform(ulong seed, ulong index) => (Bits(seed, index) >> 40) * (1.0f / 16777216.0f);

    /// <summary>Combines a seed with a stream number (a parameter, a dropout site, a step) into a new seed.</summary>
    public static ulong Derive(ulong seed, ulong stream) => Bits(seed ^ 0xD1B54A32D192ED03UL, stream);
}
