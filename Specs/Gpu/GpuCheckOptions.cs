using System.Globalization;

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

    /// <summary>
    /// Parses <c>--quick --seed N --steps N --warmup N --gemm N --python PATH|none --tolerance X</c> (for the command
    /// that wraps <see cref="GpuCheck.Run"/>); <c>--quick</c> first sets the small sizes the others may then override.
    /// </summary>
    public static GpuCheckOptions Parse(IReadOnlyList<string> args)
    {
        var o = args.Contains("--quick") ? QuickRun(new GpuCheckOptions().Seed) : new GpuCheckOptions();
        for (int i = 0; i < args.Count; i++)
        {
            string a = args[i];
            if (a == "--quick")
            {
                continue;
            }
            if (i + 1 >= args.Count)
            {
                throw new ArgumentException($"gpu check: {a} needs a value (options: --quick --seed --steps --warmup --gemm --python --tolerance).");
            }
            string v = args[++i];
            o = a switch
            {
                "--seed" => o with { Seed = Int(a, v, 0) },
                "--steps" => o with { Steps = Int(a, v, 1) },
                "--warmup" => o with { Warmup = Int(a, v, 0) },
                "--gemm" => o with { GemmSize = Int(a, v, 1) },
                "--python" => o with { Python = v == "none" ? null : v },
                "--tolerance" => o with { Tolerance = double.TryParse(v, NumberStyles.Float, CultureInfo.InvariantCulture, out double t) && t > 0 ? t : throw new ArgumentException($"gpu check: --tolerance needs a positive number, got '{v}'.") },
                _ => throw new ArgumentException($"gpu check: unknown option {a} (options: --quick --seed --steps --warmup --gemm --python --tolerance)."),
            };
        }
        return o;
    }

    private static int Int(string name, string value, int min) =>
        int.TryParse(value, NumberStyles.Integer, CultureInfo.InvariantCulture, out int v) && v >= min
            ? v
            : throw new ArgumentException($"gpu check: {name} needs an integer of at least {min}, got '{value}'.");
}
