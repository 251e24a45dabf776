using Dsl.Data;
using Specs.Bench;

namespace Specs.Cli;

/// <summary><c>bench mlp</c> (training throughput beside PyTorch) and <c>bench gemm</c> (matrix multiply beside OpenBLAS).</summary>
public static class BenchCommand
{
    public const string Usage =
        "bench mlp [--threads 1,2] [--epochs-equivalent-batches N] [--warmup N] [--batch-size N] [--lr X] [--momentum X] [--data DIR]\n" +
        "bench gemm [--threads 1,2]";

    public static int Run(IReadOnlyList<string> args, TextWriter output)
    {
        if (args.Count == 0)
        {
            throw new UsageException("bench: expected 'mlp' or 'gemm'.");
        }
        var rest = args.Skip(1);
        switch (args[0])
        {
            case "mlp":
                return Mlp(rest, output);
            case "gemm":
                return Gemm(rest, output);
            default:
                throw new UsageException($"bench: unknown benchmark '{args[0]}' (mlp or gemm).");
        }
    }

    private static int[] DefaultThreads() => new[] { 1, Environment.ProcessorCount }.Distinct().ToArray();

    private static int Mlp(IEnumerable<string> args, TextWriter output)
    {
        var o = new Options("bench mlp", args, "threads", "epochs-equivalent-batches", "warmup", "batch-size", "lr", "momentum", "data");
        if (o.Positional.Count > 0)
        {
            throw new UsageException($"bench mlp: unexpected '{o.Positional[0]}'.");
        }
        var mlp = NetworkCatalog.Get("mlp");
        var settings = new MlpBenchmark.Settings(
            o.PositiveInts("threads") ?? DefaultThreads(),
            o.PositiveInt("epochs-equivalent-batches") ?? 200,
            o.Int("warmup") is int w ? (w >= 0 ? w : throw new UsageException("bench mlp: --warmup must be 0 or more.")) : 20,
            o.PositiveInt("batch-size") ?? 64,
            o.NonNegativeFloat("lr") ?? 0.01f,
            o.NonNegativeFloat("momentum") ?? 0.5f);
        MlpBenchmark.Run(output, mlp, FashionMnist.Locate(o.String("data")), settings);
        return 0;
    }

    private static int Gemm(IEnumerable<string> args, TextWriter output)
    {
        var o = new Options("bench gemm", args, "threads");
        if (o.Positional.Count > 0)
        {
            throw new UsageException($"bench gemm: unexpected '{o.Positional[0]}'.");
        }
        var threads = o.PositiveInts("threads") ?? DefaultThreads();
        GemmBenchmark.Run(output, threads, withOpenBlas: true);
        return 0;
    }
}
