using System.Globalization;
using Xunit;

namespace Dsl.Tests.Packaging;

/// <summary>
/// The code of a user's console app that declares a small network, trains it for one step's worth of
/// Forward/Backward on the CPU and prints what a test can check independently; and of a second app whose
/// network has a shape error the generator must reject at build time.
/// </summary>
internal static class UserProgram
{
    /// <summary>Input(4) | Linear(8) | Relu | Linear(3) | LogSoftmax: (4*8 + 8) + (8*3 + 3) parameters.</summary>
    public const int ParameterCount = (4 * 8 + 8) + (8 * 3 + 3);

    public const string Network = """
        using Dsl;
        using static Dsl.Layers;

        namespace UserApp;

        /// <summary>A three-class classifier of four features.</summary>
        [Network]
        public partial class TinyClassifier
        {
            static Net Define() => Input(4) | Linear(8) | Relu | Linear(3) | LogSoftmax;
        }
        """;

    /// <summary>
    /// Prints the summary, then <c>key: value</c> lines: the loss, the same loss recomputed from the printed
    /// log-probabilities, how far each row's probabilities are from summing to one, the gradient norm, and the sum
    /// of the last bias's gradient (zero for LogSoftmax + NLL, since each row's softmax minus one-hot sums to zero).
    /// </summary>
    public const string Program = """
        using System.Globalization;
        using Dsl;
        using UserApp;

        const int Batch = 3, Classes = 3;
        var net = new TinyClassifier(Device.Cpu, seed: 1);
        var x = Tensor.From(new float[] { 0.5f, -1.25f, 2f, 0.75f, -0.3f, 1.1f, 0.2f, -0.8f, 1.7f, 0.05f, -2.1f, 0.9f }, Batch, 4);
        long[] targets = { 2, 0, 1 };
        var output = net.Forward(x);
        var loss = Loss.Nll(output, Tensor.From(targets, Batch));
        net.ZeroGrad();
        net.Backward(loss.Gradient);

        var logProbabilities = output.ToArray();
        double recomputed = 0, worstRowSum = 0;
        for (int row = 0; row < Batch; row++)
        {
            recomputed -= logProbabilities[row * Classes + (int)targets[row]] / Batch;
            double sum = 0;
            for (int c = 0; c < Classes; c++)
            {
                sum += Math.Exp(logProbabilities[row * Classes + c]);
            }
            worstRowSum = Math.Max(worstRowSum, Math.Abs(sum - 1));
        }
        double gradientNorm = Math.Sqrt(net.Parameters.Sum(p => p.Grad.ToArray().Sum(g => (double)g * g)));
        double lastBiasGradientSum = net.Parameters.Single(p => p.Name == "fc2.bias").Grad.ToArray().Sum(g => (double)g);

        Console.Write(TinyClassifier.Summary);
        Print("output shape", string.Join("x", output.Shape));
        Print("parameters", net.ParameterCount);
        Print("loss", loss.Value);
        Print("recomputed loss", recomputed);
        Print("worst row sum error", worstRowSum);
        Print("gradient norm", gradientNorm);
        Print("fc2.bias gradient sum", lastBiasGradientSum);

        static void Print(string key, object value) => Console.WriteLine(string.Format(CultureInfo.InvariantCulture, "{0}: {1}", key, value));
        """;

    /// <summary>Linear(5, 8) states 5 in-features but receives 4.</summary>
    public const string ShapeErrorNetwork = """
        using Dsl;
        using static Dsl.Layers;

        namespace UserApp;

        [Network]
        public partial class WrongWidth
        {
            static Net Define() => Input(4) | Linear(5, 8) | Relu;
        }
        """;

    public const string ShapeErrorProgram = """
        System.Console.WriteLine(UserApp.WrongWidth.Summary);
        """;

    /// <summary>An SDK-style console project; <paramref name="references"/> is the inside of an ItemGroup.</summary>
    public static string Project(string references, string extraProperties = "") => $"""
        <Project Sdk="Microsoft.NET.Sdk">
          <PropertyGroup>
            <OutputType>Exe</OutputType>
            <TargetFramework>net10.0</TargetFramework>
            <Nullable>enable</Nullable>
            <ImplicitUsings>enable</ImplicitUsings>
            <TreatWarningsAsErrors>true</TreatWarningsAsErrors>
            <InvariantGlobalization>true</InvariantGlobalization>{extraProperties}
          </PropertyGroup>
          <ItemGroup>
        {references}
          </ItemGroup>
        </Project>
        """;

    /// <summary>Checks the printed summary and numbers of <see cref="Program"/> against what they must be.</summary>
    public static void AssertRanCorrectly(DotnetCli.Result run)
    {
        run.ShouldSucceed();
        var o = run.Output;
        Assert.True(o.Contains("Network: TinyClassifier", StringComparison.Ordinal), "No summary printed:\n" + run);
        Assert.True(o.Contains("fc1: Linear(8)", StringComparison.Ordinal) && o.Contains("[4] LogSoftmax", StringComparison.Ordinal), "The summary lacks its layers:\n" + run);
        Assert.True(o.Contains($"Total params: {ParameterCount}", StringComparison.Ordinal), "The summary's parameter count is wrong:\n" + run);

        var values = o.Split('\n')
            .Select(l => l.TrimEnd('\r').Split(": ", 2))
            .Where(p => p.Length == 2)
            .GroupBy(p => p[0]).ToDictionary(g => g.Key, g => g.Last()[1]);
        string Text(string key) => values.TryGetValue(key, out var v) ? v : throw new Xunit.Sdk.XunitException($"'{key}' was not printed:\n{run}");
        double Number(string key) => double.Parse(Text(key), NumberStyles.Float, CultureInfo.InvariantCulture);

        Assert.Equal("3x3", Text("output shape"));
        Assert.Equal(ParameterCount.ToString(CultureInfo.InvariantCulture), Text("parameters"));
        double loss = Number("loss");
        // Three classes from random weights: near ln 3, certainly positive and finite.
        Assert.InRange(loss, 0.01, 10.0);
        // The float loss against a double mean of the float log-probabilities: a few float32 ulps.
        Assert.True(Math.Abs(loss - Number("recomputed loss")) <= 1e-5 * Math.Max(1, loss), "Nll disagrees with the log-probabilities:\n" + run);
        Assert.True(Number("worst row sum error") <= 1e-5, "LogSoftmax rows do not exponentiate to probabilities:\n" + run);
        Assert.True(Number("gradient norm") > 1e-3, "Backward left every gradient at zero:\n" + run);
        Assert.True(Math.Abs(Number("fc2.bias gradient sum")) <= 1e-5, "The last bias's gradient does not sum to zero:\n" + run);
    }

    /// <summary>Checks that building <see cref="ShapeErrorNetwork"/> failed with the generator's DSL1001 at the offending call.</summary>
    public static void AssertShapeErrorReported(DotnetCli.Result build)
    {
        Assert.False(build.ExitCode == 0, "A network with a shape error built:\n" + build);
        Assert.False(build.TimedOut, "The build timed out:\n" + build);
        Assert.True(
            build.Output.Contains("error DSL1001: Linear(5, 8) expects [N,5] but receives [N,4] from Input(4)", StringComparison.Ordinal),
            "The build did not report DSL1001 for Linear(5, 8):\n" + build);
        Assert.True(build.Output.Contains("WrongWidth.cs(9,", StringComparison.Ordinal), "DSL1001 does not point into the network's source:\n" + build);
    }
}
