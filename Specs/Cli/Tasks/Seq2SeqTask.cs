using Dsl;
using Specs.Seq2Seq;

namespace Specs.Cli;

/// <summary>
/// A teacher-forced encoder-decoder on a generated task (<see cref="Seq2SeqCommand"/>: reversing, sorting or rewriting
/// dates): its network's Forward (source ids, source mask, decoder input) -> logits, its vocabulary capacities, the
/// readout its attention display reads and its recipe. <c>train</c> runs <see cref="Seq2SeqTrainer"/> (greedy decoding,
/// exact match by source length), not the generic trainer.
/// </summary>
/// <typeparam name="TNet">The generated network, whose <c>Forward(source, sourceMask, target)</c> the entry passes in.</typeparam>
public sealed class Seq2SeqTask<TNet>(Func<TNet, Tensor, Tensor, Tensor, Tensor> forward) : NetworkTask, ISeq2SeqNetworkTask, IAttentionMapTask
    where TNet : Module
{
    /// <summary>How the network runs a batch: <c>(net, s, m, t) =&gt; net.Forward(s, m, t)</c>, logits [N,T,V].</summary>
    public Func<TNet, Tensor, Tensor, Tensor, Tensor> Forward { get; } = forward;

    /// <summary>Source ids the network's embedding holds.</summary>
    public required int SourceVocabularySize { get; init; }

    /// <summary>Target ids the network scores.</summary>
    public required int TargetVocabularySize { get; init; }

    /// <summary>The readout of the attention weights shown after training and by <c>attention-map</c>: [N,T,S] or [N,heads,T,S].</summary>
    public required string AttentionReadout { get; init; }

    /// <summary>How <c>train</c> trains it unless the command line says otherwise.</summary>
    public Seq2SeqRecipe Recipe { get; init; } = Seq2SeqRecipe.Default;

    public override string Data => "generated seq2seq pairs (--data reverse, sort or dates)";

    public override string? Refuse(TrainSettings settings)
        => settings.Optimizer is not null && !settings.Optimizer.Equals("adam", StringComparison.OrdinalIgnoreCase) || settings.Momentum is not null
            ? $"{settings.Network} trains with Adam: --optimizer {settings.Optimizer ?? "adam"} and --momentum do not apply"
            : settings.Windows is not null ? "--windows applies to language models (char-lstm), not to seq2seq."
            : settings.ShowAttention ? $"--show-attention applies to bilstm-attention; {settings.Network} prints one pair's attention after training."
            : null;

    public override int Train(TrainRun run) => Seq2SeqCommand.Train(run, this);

    public Func<Tensor, Tensor, Tensor, Tensor> Bind(Module net)
    {
        var typed = (TNet)net;
        return (s, m, t) => Forward(typed, s, m, t);
    }

    public string? DefaultReadout => AttentionReadout;

    /// <summary>
    /// Greedy-decodes a generated test pair's source (or <c>--text</c>) and draws <paramref name="readout"/>: rows are the
    /// decoding steps, labelled by what each writes (the last writes <c>&lt;eos&gt;</c>), or the source characters for an
    /// encoder's self-attention; columns the source characters, or the decoder's inputs (<c>&lt;bos&gt;</c> and the
    /// answer) for a decoder's self-attention. The side is told by the length, the source's or the answer's plus one.
    /// </summary>
    public AttentionExample Attend(CliOutput cli, Module net, AttentionMapSettings settings, string readout)
    {
        var recipe = Recipe with { Task = settings.Data ?? Recipe.Task, TrainCount = 1 };
        var data = Seq2SeqCommand.Generate(this, recipe, settings.Seed);
        string source = settings.Text
            ?? (settings.Index < data.Test.Count ? data.Test[settings.Index].Source
                : throw new UsageException($"--index {settings.Index}: the generated test set has {data.Test.Count} pairs"));
        var forward = Bind(net);
        var trainer = new Seq2SeqTrainer(net, forward, data, recipe, settings.Seed);
        var (answer, weights) = Seq2SeqCommand.Attend(net, forward, readout, data, trainer, source);
        cli.Out.WriteLine($"\"{source}\" -> \"{answer}\" (greedy decoding)");
        string[] sourceLabels = source.Select(c => c.ToString()).ToArray();
        string[] written = [.. answer.Select(c => c.ToString()), "<eos>"];
        string[] inputs = ["<bos>", .. answer.Select(c => c.ToString())];
        int rows = weights.Size(weights.Rank - 2), columns = weights.Size(weights.Rank - 1);
        var queries = rows == written.Length ? written : rows == sourceLabels.Length ? sourceLabels
            : throw new InvalidOperationException($"{readout} has {rows} rows for a source of {source.Length} and an answer of {answer.Length} characters.");
        var keys = columns == sourceLabels.Length ? sourceLabels : columns == inputs.Length ? inputs
            : throw new InvalidOperationException($"{readout} has {columns} columns for a source of {source.Length} and an answer of {answer.Length} characters.");
        return new AttentionExample(weights, queries, keys, $"\"{source}\" -> \"{answer}\"");
    }
}

/// <summary>A seq2seq task seen without its network type: what <c>train</c> and <c>attention-map</c> need of it.</summary>
public interface ISeq2SeqNetworkTask
{
    int SourceVocabularySize { get; }

    int TargetVocabularySize { get; }

    string AttentionReadout { get; }

    Seq2SeqRecipe Recipe { get; }

    /// <summary>The typed Forward of <paramref name="net"/> (the task's network type).</summary>
    Func<Tensor, Tensor, Tensor, Tensor> Bind(Module net);
}
