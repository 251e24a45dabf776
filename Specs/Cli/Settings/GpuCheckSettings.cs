using System.ComponentModel;
using Specs.Gpu;
using Spectre.Console;
using Spectre.Console.Cli;

namespace Specs.Cli;

/// <summary><c>gpu-check</c>: which device, how long, and where PyTorch is.</summary>
public sealed class GpuCheckSettings : CommandSettings
{
    [CommandOption("--device <DEVICE>")]
    [Description("gpu (CUDA, else an OpenCL GPU) or gpu:cpu (ILGPU's CPU accelerator: the logic only, the numbers mean nothing)")]
    [DefaultValue("gpu")]
    public string Device { get; set; } = "gpu";

    [CommandOption("--quick")]
    [Description("tiny sizes and one step: for CI and the CPU accelerator")]
    public bool Quick { get; set; }

    [CommandOption("--seed <N>")]
    [Description("seed of the random inputs (default: from the clock, printed so a failure can be replayed)")]
    public int? Seed { get; set; }

    [CommandOption("--steps <N>")]
    [Description("timed training steps per network (default 50; 1 with --quick)")]
    public int? Steps { get; set; }

    [CommandOption("--warmup <N>")]
    [Description("untimed steps before timing (default 10; 0 with --quick)")]
    public int? Warmup { get; set; }

    [CommandOption("--gemm <N>")]
    [Description("edge of the timed square GEMM (default 4096; 48 with --quick)")]
    public int? Gemm { get; set; }

    [CommandOption("--python <PATH>")]
    [Description("the Python with PyTorch, or 'none' to leave out the PyTorch column (default python3)")]
    public string? Python { get; set; }

    [CommandOption("--tolerance <X>")]
    [Description("largest relative error a kernel may show against the CPU backend (default 1e-4)")]
    public double? Tolerance { get; set; }

    /// <summary>The device, created by <see cref="Validate"/>, so that a missing GPU is a usage error.</summary>
    public Dsl.Device? ResolvedDevice { get; private set; }

    /// <summary>The options these settings give: <c>--quick</c> first sets the small sizes the others may then override.</summary>
    public GpuCheckOptions Options
    {
        get
        {
            var o = Quick ? GpuCheckOptions.QuickRun(Seed ?? new GpuCheckOptions().Seed) : new GpuCheckOptions();
            return o with
            {
                Seed = Seed ?? o.Seed,
                Steps = Steps ?? o.Steps,
                Warmup = Warmup ?? o.Warmup,
                GemmSize = Gemm ?? o.GemmSize,
                Python = Python is null ? o.Python : Python == "none" ? null : Python,
                Tolerance = Tolerance ?? o.Tolerance,
            };
        }
    }

    public override ValidationResult Validate() => Check.First(
        Check.Positive("--steps", Steps),
        Check.NonNegative("--warmup", Warmup),
        Check.Positive("--gemm", Gemm),
        Tolerance is { } t && !(t > 0) ? $"--tolerance must be positive, got {t}." : null,
        ResolveDevice());

    private string? ResolveDevice()
    {
        try
        {
            ResolvedDevice = Dsl.Device.Parse(Device);
            return ResolvedDevice is Dsl.Devices.Gpu.GpuDevice ? null : $"--device {Device}: the check compares a GPU device with the CPU; use gpu or gpu:cpu.";
        }
        catch (Exception e) when (e is ArgumentException or NotSupportedException or InvalidOperationException)
        {
            return $"--device {Device}: {e.Message.Replace($" (Parameter '{(e as ArgumentException)?.ParamName}')", "", StringComparison.Ordinal)}";
        }
    }
}
