using System.Diagnostics;
using Dsl.Devices.Gpu;
using Dsl.Tests.Generator;
using Dsl.Tests.Kernels;
using Specs.Gpu;
using Xunit;

namespace Dsl.Tests.Gpu;

/// <summary>
/// The CPU-side half of the device check: its whole logic on ILGPU's CPU accelerator at tiny sizes (every kernel
/// against the CPU backend, the timings, the PyTorch column when PyTorch is installed, the table), and the script's
/// own checks. Publishing and packing the self-contained build is in <see cref="GpuCheckPackageTests"/>.
/// </summary>
[Collection(IlgpuCpuAcceleratorCollection.Name)]
public sealed class GpuCheckTests
{
    private readonly GpuDevice _gpu;
    private readonly Xunit.Abstractions.ITestOutputHelper _log;

    public GpuCheckTests(IlgpuCpuAcceleratorFixture fixture, Xunit.Abstractions.ITestOutputHelper log)
    {
        _gpu = (GpuDevice)fixture.Device;
        _log = log;
    }

    [Fact]
    public void Quick_check_on_the_cpu_accelerator_agrees_on_every_kernel_and_prints_one_table()
    {
        var options = GpuCheckOptions.QuickRun(seed: 11) with { Python = File.Exists("/usr/bin/python3") ? "/usr/bin/python3" : null };
        var text = new StringWriter();
        var report = GpuCheck.Measure(_gpu, options, text);
        GpuCheck.Print(report, options, text);
        string table = text.ToString();
        _log.WriteLine(table);

        Assert.True(report.Passed, table);
        Assert.True(report.Kernels.Count >= 25, $"only {report.Kernels.Count} kernel cases:\n{table}");
        foreach (var k in report.Kernels)
        {
            Assert.True(k.Elements > 0, $"{k.Name} produced nothing");
            Assert.Contains(k.Name, table);
        }
        // The group reductions of the sequence and tensor kernels are in the table too.
        foreach (var name in new[] { "reduce max dim 1", "max-over-time, mean-over-time (lengths)", "mask-lengths", "attention-pool forward, backward",
            "attention forward, backward (key padding)", "attention forward, backward (causal)", "sum-to-samples" })
        {
            Assert.Contains(report.Kernels, k => k.Name == name);
        }
        Assert.Contains("gpu (CPU accelerator)", table);
        Assert.Contains("CHECK PASSED", table);
        Assert.Equal(4, report.Timings.Count);
        var timed = report.Timings.Where(t => !t.Note.Contains("not timed", StringComparison.Ordinal)).ToList();
        Assert.Equal(3, timed.Count);
        Assert.All(timed, t => Assert.True(t.OursMs > 0 && double.IsFinite(t.OursMs), $"{t.Name}: {t.OursMs}"));
        if (options.Python is not null && table.Contains("PyTorch 1.", StringComparison.Ordinal))
        {
            // PyTorch ran: every timed row has its figure.
            Assert.All(timed, t => Assert.True(t.TorchMs > 0, $"{t.Name}: PyTorch {t.TorchMs}"));
        }
        Assert.True(report.GemmGflops > 0);
    }

    [Fact]
    public void Relative_error_turns_an_unwritten_poisoned_element_into_a_failure()
    {
        Assert.Equal(0, KernelAgreement.RelativeError([1f, -2f], [1f, -2f]));
        Assert.Equal(0.25, KernelAgreement.RelativeError([1f, -4f], [2f, -4f]), 12);
        Assert.True(double.IsNaN(KernelAgreement.RelativeError([1f, 2f], [1f, float.NaN])));
        var failed = new KernelAgreement.Result("k", 2, double.NaN, 0, null);
        Assert.False(failed.Passed(1e-4));
    }

    [Fact]
    public void The_command_line_sets_options_over_the_quick_sizes_and_refuses_bad_values()
    {
        var settings = new Specs.Cli.GpuCheckSettings { Quick = true, Seed = 5, Python = "none", Gemm = 64 };
        var o = settings.Options;
        Assert.True(o.Quick);
        Assert.Equal(5, o.Seed);
        Assert.Null(o.Python);
        Assert.Equal(64, o.GemmSize);
        Assert.Equal(1, o.Steps);
        var output = new StringWriter();
        var error = new StringWriter();
        Assert.Equal(Specs.Cli.App.UsageError, Specs.Cli.App.Run(["gpu-check", "--device", "gpu:cpu", "--steps", "0"], output, error));
        Assert.Contains("--steps", error.ToString());
        Assert.Equal(Specs.Cli.App.UsageError, Specs.Cli.App.Run(["gpu-check", "--device", "cpu"], output, error));
        Assert.Contains("compares a GPU device with the CPU", error.ToString());
        Assert.Equal(Specs.Cli.App.UsageError, Specs.Cli.App.Run(["gpu-check", "--fast"], output, error));
    }

    [Fact]
    public void A_cpu_device_is_refused_with_a_clear_error()
    {
        var e = Assert.Throws<ArgumentException>(() => GpuCheck.Measure(Device.Cpu, GpuCheckOptions.QuickRun(1), TextWriter.Null));
        Assert.Contains("needs a GPU device", e.Message);
    }

    [Fact]
    public void Check_script_parses_and_run_without_a_package_says_how_to_make_one()
    {
        string script = Path.Combine(GeneratorHarness.RepoRoot(), "Specs", "Gpu", "check.sh");
        Assert.Equal(0, Bash(out _, "-n", script));
        string empty = Path.Combine(Path.GetTempPath(), $"dsl-gpu-check-{Guid.NewGuid():N}");
        try
        {
            int code = Bash(out string text, script, "run", "--quick", env: ("DSL_CHECK_OUT", empty));
            Assert.Equal(2, code);
            Assert.Contains("no package at", text);
            Assert.Contains("check.sh package", text);
        }
        finally
        {
            if (Directory.Exists(empty))
            {
                Directory.Delete(empty, recursive: true);
            }
        }
    }

    internal static int Bash(out string text, params string[] args) => Bash(out text, args, env: default);

    internal static int Bash(out string text, string script, string verb, string option, (string Key, string Value) env) =>
        Bash(out text, new[] { script, verb, option }, env);

    private static int Bash(out string text, string[] args, (string Key, string Value) env)
    {
        var start = new ProcessStartInfo("bash") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var a in args)
        {
            start.ArgumentList.Add(a);
        }
        if (env.Key is not null)
        {
            start.Environment[env.Key] = env.Value;
        }
        using var p = Process.Start(start)!;
        var err = p.StandardError.ReadToEndAsync();
        string stdout = p.StandardOutput.ReadToEnd();
        if (!p.WaitForExit(TimeSpan.FromMinutes(10)))
        {
            p.Kill(entireProcessTree: true);
            throw new TimeoutException($"bash {string.Join(' ', args)} did not finish");
        }
        text = stdout + err.Result;
        return p.ExitCode;
    }
}

/// <summary>
/// <c>check.sh package</c>: a self-contained linux-x64 publish of Specs packed under 64 MiB, with the PyTorch side
/// beside the app. A whole publish, so it is in the Packaging category that CI may run separately.
/// </summary>
[Trait("Category", "Packaging")]
[Collection(Packaging.PackagingCollection.Name)]
public sealed class GpuCheckPackageTests
{
    [Fact]
    public void Package_is_a_self_contained_build_under_64_MiB_with_the_pytorch_scripts()
    {
        string script = Path.Combine(GeneratorHarness.RepoRoot(), "Specs", "Gpu", "check.sh");
        string outFolder = Path.Combine(Path.GetTempPath(), $"dsl-gpu-package-{Guid.NewGuid():N}");
        try
        {
            int code = GpuCheckTests.Bash(out string text, script, "package", "", ("DSL_CHECK_OUT", outFolder));
            Assert.True(code == 0, text);
            string package = Path.Combine(outFolder, "dsl-gpu-check-linux-x64.tar.gz");
            long size = new FileInfo(package).Length;
            Assert.InRange(size, 1L << 20, (64L << 20) - 1);
            Assert.True(File.Exists(Path.Combine(outFolder, "publish", "Specs")), "no Specs executable in the build");
            Assert.True(File.Exists(Path.Combine(outFolder, "publish", "libcoreclr.so")), "the build is not self-contained");
            Assert.True(File.Exists(Path.Combine(outFolder, "publish", "torch_step.py")));
            Assert.True(File.Exists(Path.Combine(outFolder, "publish", "torch_nets.py")));

            // The self-contained app starts without an SDK-provided runtime.
            var start = new ProcessStartInfo(Path.Combine(outFolder, "publish", "Specs")) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
            start.ArgumentList.Add("list");
            start.Environment["DOTNET_SYSTEM_GLOBALIZATION_INVARIANT"] = "1";
            start.Environment.Remove("DOTNET_ROOT");
            using var app = Process.Start(start)!;
            string listed = app.StandardOutput.ReadToEnd();
            Assert.True(app.WaitForExit(TimeSpan.FromMinutes(1)) && app.ExitCode == 0, listed + app.StandardError.ReadToEnd());
            Assert.Contains("mnist-net", listed);
        }
        finally
        {
            if (Directory.Exists(outFolder))
            {
                Directory.Delete(outFolder, recursive: true);
            }
        }
    }
}
