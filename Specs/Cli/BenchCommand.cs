using Dsl.Data;
using Specs.Bench;

namespace Specs.Cli;

/// <summary>
/// <c>bench train &lt;network&gt;</c> (training and evaluation throughput beside PyTorch; <c>bench mlp</c> is
/// <c>bench train mlp</c>) and <c>bench gemm</c> (matrix multiply beside OpenBLAS).
/// </summary>
public static class BenchCommand
{
    public const string Usage =
        "bench train <network> [--threads 1,2] [--batches N] [--warmup N] [--repeat N] [--batch-size N] [--lr X] [--momentum X] [--data DIR]\n" +
        "bench mlp [same options]   (bench train mlp)\n" +
        "bench gemm [--threads 1,2]";

    public static int Run(IReadOnlyList<string> args, TextWriter output)
    {
        if (args.Count == 0)
        {
            throw new UsageException("bench: expected 'train', 'mlp' or 'gemm'.");
        }
        switch (args[0])
        {
            case "train":
                return Train(args.Skip(1), output);
            case "mlp":
                return Train(args.Skip(1).Prepend("mlp"), output);
            case "gemm":
                return Gemm(args.Skip(1), output);
            default:
                throw new UsageException($"bench: unknown benchmark '{args[0]}' (train, mlp or gemm).");
        }
    }

    private static int[] DefaultThreads() => new[] { 1, Environment.ProcessorCount }.Distinct().ToArray();

    private static int Train(IEnumerable<string> args, TextWriter output)
    {
        var o = new Options("bench train", args, "threads", "batches", "epochs-equivalent-batches", "warmup", "repeat", "batch-size", "lr", "momentum", "data");
        var network = NetworkCatalog.Get(o.Single("a network name (see 'list')"));
        var settings = new TrainBenchmark.Settings(
            o.PositiveInts("threads") ?? DefaultThreads(),
            o.PositiveInt("batches") ?? o.PositiveInt("epochs-equivalent-batches") ?? 300,
            o.Int("warmup") is int w ? (w >= 0 ? w : throw new UsageException("bench train: --warmup must be 0 or more.")) : 30,
            o.PositiveInt("batch-size") ?? 64,
            o.NonNegativeFloat("lr") ?? 0.01f,
            o.NonNegativeFloat("momentum") ?? 0.5f,
            o.PositiveInt("repeat") ?? 3);
        TrainBenchmark.Run(output, network, FashionMnist.Locate(o.String("data")), settings);
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
