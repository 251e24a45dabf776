using System.Reflection;
using Dsl.Devices.Gpu;
using ILGPU;
using ILGPU.Algorithms;
using ILGPU.Backends.EntryPoints;
using ILGPU.Backends.PTX;
using ILGPU.Runtime;
using ILGPU.Runtime.Cuda;
using Xunit;

namespace Dsl.Tests.Gpu;

/// <summary>
/// Every GPU kernel compiled to PTX by ILGPU's PTX backend, constructed directly so no GPU or CUDA driver is needed.
/// The ILGPU CPU accelerator runs .NET code and accepts constructs the PTX backend refuses (see the README beside the
/// kernels); this is where such a kernel fails, with its name, before anyone borrows a GPU.
/// </summary>
public sealed class PtxCompileTests
{
    /// <summary>The kernels, found by reflection: static methods of the GPU device whose names end in "Kernel".</summary>
    public static IReadOnlyList<MethodInfo> Kernels { get; } = typeof(GpuDevice)
        .GetMethods(BindingFlags.Static | BindingFlags.NonPublic | BindingFlags.Public | BindingFlags.DeclaredOnly)
        .Where(m => m.Name.EndsWith("Kernel", StringComparison.Ordinal) && m.ReturnType == typeof(void))
        .SelectMany(Instantiate)
        .OrderBy(m => m.Name, StringComparer.Ordinal)
        .ToArray();

    /// <summary>Generic kernels (the typed copy) are compiled for every element type a tensor can hold.</summary>
    private static IEnumerable<MethodInfo> Instantiate(MethodInfo m) => m.IsGenericMethodDefinition
        ? new[] { typeof(float), typeof(long), typeof(int) }.Select(t => m.MakeGenericMethod(t))
        : new[] { m };

    /// <summary>Implicitly grouped kernels take their thread index first; the others are launched with explicit groups.</summary>
    private static EntryPointDescription EntryPoint(MethodInfo kernel)
    {
        var first = kernel.GetParameters().FirstOrDefault()?.ParameterType;
        bool implicitIndex = first == typeof(Index1D) || first == typeof(Index2D) || first == typeof(Index3D);
        return implicitIndex
            ? EntryPointDescription.FromImplicitlyGroupedKernel(kernel)
            : EntryPointDescription.FromExplicitlyGroupedKernel(kernel);
    }

    /// <summary>Hopper with the PTX ISA of CUDA 12.3, and Turing with the first ISA that knows it (6.4, CUDA 10.1).</summary>
    public static TheoryData<int, int, int, int> Architectures => new() { { 9, 0, 8, 3 }, { 7, 5, 6, 4 } };

    [Theory]
    [MemberData(nameof(Architectures))]
    public void Every_gpu_kernel_compiles_to_ptx(int major, int minor, int isaMajor, int isaMinor)
    {
        var architecture = new CudaArchitecture(major, minor);
        var isa = new CudaInstructionSet(isaMajor, isaMinor);
        var failures = new List<string>();
        int compiled = 0;
        var compiler = new Compiler(architecture, isa);
        try
        {
            foreach (var kernel in Kernels)
            {
                try
                {
                    var result = (PTXCompiledKernel)compiler.Backend.Compile(EntryPoint(kernel), KernelSpecialization.Empty);
                    Assert.Contains(".entry", result.PTXAssembly, StringComparison.Ordinal);
                    // Asked for sm_90, ILGPU 1.5.3 writes `.target sm_80` (PTX for an older target is JIT-compiled by the
                    // driver for a newer card); the ISA version must be the one requested.
                    var target = System.Text.RegularExpressions.Regex.Match(result.PTXAssembly, @"\.target sm_(\d+)");
                    Assert.True(target.Success, $"{Describe(kernel)}: no .target line");
                    Assert.InRange(int.Parse(target.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture), 70, major * 10 + minor);
                    Assert.Contains($".version {isaMajor}.{isaMinor}", result.PTXAssembly, StringComparison.Ordinal);
                    compiled++;
                }
                catch (Exception e) when (e is not Xunit.Sdk.XunitException)
                {
                    failures.Add($"{Describe(kernel)}: {e.GetType().Name}: {e.Message}{(e.InnerException is null ? "" : " <- " + e.InnerException.Message)}");
                    // A failed compilation leaves ILGPU's context unusable: later kernels would fail in its name.
                    compiler.Dispose();
                    compiler = new Compiler(architecture, isa);
                }
            }
        }
        finally
        {
            compiler.Dispose();
        }
        Assert.True(failures.Count == 0, $"{failures.Count} of {Kernels.Count} kernels do not compile for sm_{major}{minor}:\n" + string.Join("\n", failures));
        Assert.Equal(Kernels.Count, compiled);
        Assert.True(compiled >= 30, $"only {compiled} kernels found");
    }

    [Fact]
    public void Reflection_finds_the_kernels_the_device_loads()
    {
        // A sample from every family, so a change to the naming rule cannot silently empty the list.
        string[] expected =
        {
            "GemmKernel", "Conv2dIm2ColKernel", "MaxPool2dKernel", "SoftmaxKernel", "LabelLossRowKernel",
            "LossFinishKernel", "CorrectCountKernel", "BatchNormStatsKernel", "NormPowerPartialsKernel", "AdamKernel", "FillKernel",
            "SumAlongKernel", "MaxAlongKernel", "MaxOverTimeKernel", "MaskLengthsKernel", "AttentionScoresKernel", "AttentionRowKernel",
            "AttentionKeyGradKernel", "AttentionKeptKeysKernel", "SumToKernel", "EmbeddingFaultKernel", "MaskFaultKernel",
        };
        var names = Kernels.Select(k => k.Name).ToHashSet(StringComparer.Ordinal);
        foreach (var name in expected)
        {
            Assert.Contains(name, names);
        }
    }

    /// <summary>A context with the algorithms library (as the device creates it) and a PTX backend on it.</summary>
    private sealed class Compiler : IDisposable
    {
        private readonly Context _context;

        public Compiler(CudaArchitecture architecture, CudaInstructionSet isa)
        {
            _context = Context.Create(b => b.Default().EnableAlgorithms());
            Backend = new PTXBackend(_context, new CudaCapabilityContext(architecture), architecture, isa, nvvmAPI: null);
        }

        public PTXBackend Backend { get; }

        public void Dispose()
        {
            Backend.Dispose();
            _context.Dispose();
        }
    }

    private static string Describe(MethodInfo m) => m.IsGenericMethod
        ? $"{m.Name}<{string.Join(",", m.GetGenericArguments().Select(t => t.Name))}>"
        : m.Name;
}
