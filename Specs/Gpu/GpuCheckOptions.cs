namespace Specs.Gpu;

/// <summary>
/// Options of the device check. <see cref="Quick"/> shrinks every size so the whole check runs on ILGPU's CPU
/// accelerator (<c>--device gpu:cpu</c>) in seconds: the logic is exercised, the numbers mean nothing.
/// </summary>
public sealed record GpuCheckOptions
{
    /// <summary>Tiny sizes and few steps (CI, the CPU accelerator).</summary>
    public bool Quick { get; init; }

    /// <summary>Seed of the random inputs; fresh (from the clock) unless given, and printed so a failure can be replayed.</summary>
    public int Seed { get; init; } = Environment.TickCount & 0x7fffffff;

    /// <summary>Timed training steps per network, after <see cref="Warmup"/> untimed ones.</summary>
    public int Steps { get; init; } = 50;

    public int Warmup { get; init; } = 10;

    /// <summary>Edge of the square GEMM that is timed (4096: 137 GFLOP per product).</summary>
    public int GemmSize { get; init; } = 4096;

    /// <summary>The Python with PyTorch, or null to skip the PyTorch column.</summary>
    public string? Python { get; init; } = "python3";

    /// <summary>Largest relative error (max |gpu - cpu| / max |cpu|) a kernel may show.</summary>
    public double Tolerance { get; init; } = 1e-4;

    /// <summary>The options of a CI run on the CPU accelerator.</summary>
    public static GpuCheckOptions QuickRun(int seed) => new() { Quick = true, Seed = seed, Steps = 1, Warmup = 0, GemmSize = 48 };
}
