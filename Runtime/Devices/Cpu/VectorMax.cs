using System.Runtime.Intrinsics;

namespace Dsl.Devices.Cpu;

/// <summary>
/// <see cref="PoolMath.MaxReplaces"/> lane by lane: a lane of v replaces best where it is greater or NaN (PyTorch propagates
/// NaN). Max pooling takes it window element by element; a ReLU is the same rule against zero (NaN kept, -0 made +0).
/// </summary>
internal static class VectorMax
{
    public static Vector512<float> Take(Vector512<float> v, Vector512<float> best)
        => Vector512.ConditionalSelect(Vector512.GreaterThan(v, best) | ~Vector512.Equals(v, v), v, best);

    public static Vector256<float> Take(Vector256<float> v, Vector256<float> best)
        => Vector256.ConditionalSelect(Vector256.GreaterThan(v, best) | ~Vector256.Equals(v, v), v, best);

    public static Vector128<float> Take(Vector128<float> v, Vector128<float> best)
        => Vector128.ConditionalSelect(Vector128.GreaterThan(v, best) | ~Vector128.Equals(v, v), v, best);
}
