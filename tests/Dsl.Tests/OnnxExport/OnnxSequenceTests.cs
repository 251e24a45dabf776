using Specs.Networks;
using Xunit;
using Xunit.Abstractions;

namespace Dsl.Tests.OnnxExport;

/// <summary>
/// The sequence Specs and the sequence test networks (<c>OnnxSequenceNets.cs</c>), exported and run in ONNX Runtime on
/// random tokens (or values) with padded masks at two lengths and two batch sizes: every output must be <c>Forward</c>'s in
/// evaluation mode to <see cref="OnnxRuntimeCheck.Tolerance"/>. A batch's first row is full length (so T is the real
/// padded length), the others random lengths from 1 to T, with the padding token 0 where the mask is 0.
/// </summary>
public class OnnxSequenceTests(ITestOutputHelper output)
{
    /// <summary>The Specs of <c>Specs/Networks</c> that read token ids: each is checked here, none may be refused.</summary>
    public static readonly Type[] SequenceSpecs = [typeof(KimCnn), typeof(BiLstmAttention), typeof(CharLstm), typeof(Seq2SeqGru), typeof(CourseTransformer), typeof(TransformerClassifier), typeof(TransformerSeq2Seq), typeof(CharTransformer)];

    public static TheoryData<string> SequenceSpecNames => new(SequenceSpecs.Select(t => t.Name));

    /// <summary>Batch sizes and padded lengths: every pair of two of each.</summary>
    private static readonly (int Batch, int Length)[] Sizes = [(1, 6), (5, 6), (1, 13), (5, 13)];

    [Theory]
    [MemberData(nameof(SequenceSpecNames))]
    public void Sequence_spec_agrees_with_onnx_runtime_on_random_tokens_with_padded_masks(string name)
    {
        Module net = name switch
        {
            nameof(KimCnn) => new KimCnn(Device.Cpu, 3),
            nameof(BiLstmAttention) => new BiLstmAttention(Device.Cpu, 3),
            nameof(CharLstm) => new CharLstm(Device.Cpu, 3),
            nameof(Seq2SeqGru) => new Seq2SeqGru(Device.Cpu, 3),
            nameof(CourseTransformer) => new CourseTransformer(Device.Cpu, 3),
            nameof(TransformerClassifier) => new TransformerClassifier(Device.Cpu, 3),
            nameof(TransformerSeq2Seq) => new TransformerSeq2Seq(Device.Cpu, 3),
            nameof(CharTransformer) => new CharTransformer(Device.Cpu, 3),
            _ => throw new ArgumentException($"no inputs are made for {name}", nameof(name)),
        };
        OnnxRuntimeCheck.Perturb(net, 11);
        net.Eval();
        byte[] model = OnnxRuntimeCheck.Export(net);
        foreach (var (batch, length) in Sizes)
        {
            var random = new Random(batch * 100 + length);
            int[] lengths = Lengths(random, batch, length);
            string what = $"batch {batch}, T = {length}";
            switch (net)
            {
                case KimCnn kim:
                {
                    var tokens = Tokens(random, lengths, length, KimCnn.Vocabulary);
                    var mask = Mask(lengths, length);
                    Agree(name, what, model, [tokens, mask], ("output", kim.Forward(tokens, mask)));
                    break;
                }
                case BiLstmAttention bi:
                {
                    var tokens = Tokens(random, lengths, length, BiLstmAttention.Vocabulary);
                    var mask = Mask(lengths, length);
                    Agree(name, what, model, [tokens, mask], ("output", bi.Forward(tokens, mask)));
                    break;
                }
                case TransformerClassifier transformer:
                {
                    var tokens = Tokens(random, lengths, length, TransformerClassifier.Vocabulary);
                    var mask = Mask(lengths, length);
                    Agree(name, what, model, [tokens, mask], ("output", transformer.Forward(tokens, mask)));
                    break;
                }
                case CharLstm chars:
                {
                    var tokens = Tokens(random, Enumerable.Repeat(length, batch).ToArray(), length, CharLstm.Vocabulary);
                    Agree(name, what, model, [tokens], ("output", chars.Forward(tokens)));
                    break;
                }
                case CourseTransformer course:
                {
                    // A fixed length: the blocks are written for CourseTransformer.Length positions.
                    int t = CourseTransformer.Length;
                    int[] own = Lengths(random, batch, t);
                    var tokens = Tokens(random, own, t, CourseTransformer.Vocabulary);
                    var positions = Tensor.From(Enumerable.Range(0, batch * t).Select(i => (long)(i % t)).ToArray(), Device.Cpu, batch, t);
                    var mask = Mask(own, t);
                    Agree(name, what, model, [tokens, positions, mask], ("output", course.Forward(tokens, positions, mask)));
                    break;
                }
                case TransformerSeq2Seq ts2s:
                {
                    var source = Tokens(random, lengths, length, TransformerSeq2Seq.SourceVocabularySize);
                    var mask = Mask(lengths, length);
                    var target = Tokens(random, Enumerable.Repeat(length - 2, batch).ToArray(), length - 2, TransformerSeq2Seq.TargetVocabularySize);
                    Agree(name, what, model, [source, mask, target], ("output", ts2s.Forward(source, mask, target)));
                    break;
                }
                case CharTransformer charT:
                {
                    var tokens = Tokens(random, Enumerable.Repeat(length, batch).ToArray(), length, CharTransformer.Vocabulary);
                    Agree(name, what, model, [tokens], ("output", charT.Forward(tokens)));
                    break;
                }
                case Seq2SeqGru s2s:
                {
                    // The target has its own length, T - 2 here, independent of the source's S.
                    var source = Tokens(random, lengths, length, Seq2SeqGru.SourceVocabularySize);
                    var mask = Mask(lengths, length);
                    var target = Tokens(random, Enumerable.Repeat(length - 2, batch).ToArray(), length - 2, Seq2SeqGru.TargetVocabularySize);
                    Agree(name, what, model, [source, mask, target], ("output", s2s.Forward(source, mask, target)));
                    break;
                }
            }
        }
    }

    [Fact]
    public void Convolutional_sequence_mappings_agree_with_onnx_runtime()
    {
        var net = new OnnxConvSeqNet(Device.Cpu, 5);
        net.Eval();
        byte[] model = OnnxRuntimeCheck.Export(net);
        foreach (var (batch, length) in Sizes)
        {
            var random = new Random(batch * 10 + length);
            int[] lengths = Lengths(random, batch, length);
            var tokens = Tokens(random, lengths, length, 20);
            var mask = Mask(lengths, length);
            Agree(nameof(OnnxConvSeqNet), $"batch {batch}, T = {length}, lengths {string.Join(",", lengths)}", model, [tokens, mask], ("output", net.Forward(tokens, mask)));
        }
    }

    [Fact]
    public void Two_layer_bidirectional_lstm_with_a_mask_h0_and_c0_agrees_with_onnx_runtime()
    {
        var net = new OnnxLstmNet(Device.Cpu, 5);
        net.Eval();
        byte[] model = OnnxRuntimeCheck.Export(net);
        foreach (var (batch, length) in Sizes)
        {
            var random = new Random(batch * 10 + length);
            int[] lengths = Lengths(random, batch, length);
            var x = Values(random, batch, length, 3);
            var h0 = Values(random, batch, 4, 5);
            var c0 = Values(random, batch, 4, 5);
            var mask = Mask(lengths, length);
            var (sequence, summary) = net.ForwardAll(x, h0, c0, mask);
            Agree(nameof(OnnxLstmNet), $"batch {batch}, T = {length}", model, [x, h0, c0, mask], ("sequence", sequence), ("summary", summary));
        }
    }

    [Fact]
    public void Two_layer_bidirectional_gru_with_a_mask_and_h0_agrees_with_onnx_runtime()
    {
        var net = new OnnxGruNet(Device.Cpu, 5);
        net.Eval();
        byte[] model = OnnxRuntimeCheck.Export(net);
        foreach (var (batch, length) in Sizes)
        {
            var random = new Random(batch * 10 + length);
            int[] lengths = Lengths(random, batch, length);
            var x = Values(random, batch, length, 3);
            var h0 = Values(random, batch, 4, 5);
            var mask = Mask(lengths, length);
            var (sequence, summary) = net.ForwardAll(x, h0, mask);
            Agree(nameof(OnnxGruNet), $"batch {batch}, T = {length}", model, [x, h0, mask], ("sequence", sequence), ("summary", summary));
        }
    }

    [Fact]
    public void Rnns_two_layer_bidirectional_relu_with_a_mask_and_h0_and_tanh_without_biases_agree_with_onnx_runtime()
    {
        var net = new OnnxRnnNet(Device.Cpu, 5);
        net.Eval();
        byte[] model = OnnxRuntimeCheck.Export(net);
        foreach (var (batch, length) in Sizes)
        {
            var random = new Random(batch * 10 + length);
            int[] lengths = Lengths(random, batch, length);
            var x = Values(random, batch, length, 3);
            var h0 = Values(random, batch, 4, 5);
            var h1 = Values(random, batch, 4);
            var mask = Mask(lengths, length);
            var (sequence, summary) = net.ForwardAll(x, h0, h1, mask);
            Agree(nameof(OnnxRnnNet), $"batch {batch}, T = {length}", model, [x, h0, h1, mask], ("sequence", sequence), ("summary", summary));
        }
    }

    [Fact]
    public void Masked_and_scaled_attention_and_attention_pooling_agree_with_onnx_runtime()
    {
        var net = new OnnxAttentionNet(Device.Cpu, 5);
        net.Eval();
        byte[] model = OnnxRuntimeCheck.Export(net);
        foreach (var (batch, length) in Sizes)
        {
            var random = new Random(batch * 10 + length);
            int queries = length - 3;
            int[] lengths = Lengths(random, batch, length);
            var query = Values(random, batch, queries, 4);
            var keys = Values(random, batch, length, 4);
            var values = Values(random, batch, length, 3);
            var mask = Mask(lengths, length);
            var (sequence, summary) = net.ForwardAll(query, keys, values, mask);
            Agree(nameof(OnnxAttentionNet), $"batch {batch}, T = {queries}, S = {length}", model, [query, keys, values, mask], ("sequence", sequence), ("summary", summary));
        }
    }

    [Fact]
    public void Value_functions_on_a_symbolic_length_agree_with_onnx_runtime()
    {
        // * of an embedding and a projection, Concat along the features and along the time axis ([N,2*T,8]).
        var net = new Dsl.Tests.Networks.ValueFunctionNet(Device.Cpu, 5);
        net.Eval();
        byte[] model = OnnxRuntimeCheck.Export(net);
        foreach (var (batch, length) in Sizes)
        {
            var random = new Random(batch * 10 + length);
            var x = Values(random, batch, length, 3);
            var tokens = Tokens(random, Enumerable.Repeat(length, batch).ToArray(), length, 11);
            Agree("ValueFunctionNet", $"batch {batch}, T = {length}", model, [x, tokens], ("output", net.Forward(x, tokens)));
        }
    }

    [Fact]
    public void A_row_without_valid_steps_agrees_with_onnx_runtime()
    {
        // Length 0: the recurrent layers output zeros and keep h0 (c0) as the last state; the pools give 0.
        int[] lengths = [7, 0, 3];
        var random = new Random(2);
        var lstm = new OnnxLstmNet(Device.Cpu, 5);
        lstm.Eval();
        var x = Values(random, 3, 7, 3);
        var h0 = Values(random, 3, 4, 5);
        var c0 = Values(random, 3, 4, 5);
        var mask = Mask(lengths, 7);
        var (sequence, summary) = lstm.ForwardAll(x, h0, c0, mask);
        Agree(nameof(OnnxLstmNet), "lengths 7,0,3", OnnxRuntimeCheck.Export(lstm), [x, h0, c0, mask], ("sequence", sequence), ("summary", summary));
        var gru = new OnnxGruNet(Device.Cpu, 5);
        gru.Eval();
        var (gruSequence, gruSummary) = gru.ForwardAll(x, h0, mask);
        Agree(nameof(OnnxGruNet), "lengths 7,0,3", OnnxRuntimeCheck.Export(gru), [x, h0, mask], ("sequence", gruSequence), ("summary", gruSummary));
        var conv = new OnnxConvSeqNet(Device.Cpu, 5);
        conv.Eval();
        var tokens = Tokens(random, lengths, 7, 20);
        Agree(nameof(OnnxConvSeqNet), "lengths 7,0,3", OnnxRuntimeCheck.Export(conv), [tokens, mask], ("output", conv.Forward(tokens, mask)));
    }

    [Fact]
    public void The_measure_sees_a_mapping_that_ignored_the_mask()
    {
        // The negative twin: the same model run on a full mask is far from Forward on the padded batch.
        var net = new OnnxLstmNet(Device.Cpu, 5);
        net.Eval();
        byte[] model = OnnxRuntimeCheck.Export(net);
        var random = new Random(1);
        int[] lengths = [9, 3, 5];
        var x = Values(random, 3, 9, 3);
        var h0 = Values(random, 3, 4, 5);
        var c0 = Values(random, 3, 4, 5);
        var (sequence, _) = net.ForwardAll(x, h0, c0, Mask(lengths, 9));
        var unmasked = OnnxRuntimeCheck.Run(model, x, h0, c0, Mask([9, 9, 9], 9));
        double error = OnnxRuntimeCheck.MaxRelativeError(sequence, unmasked["sequence"]);
        Assert.True(error > 100 * OnnxRuntimeCheck.Tolerance, $"a mask left out moved the outputs by only {error:0.0e+00}");
    }

    private void Agree(string name, string what, byte[] model, Tensor[] inputs, params (string Output, Tensor Ours)[] outputs)
    {
        var reference = OnnxRuntimeCheck.Run(model, inputs);
        Assert.Equal(outputs.Select(o => o.Output).Order(), reference.Keys.Order());
        foreach (var (name1, ours) in outputs)
        {
            double error = OnnxRuntimeCheck.MaxRelativeError(ours, reference[name1]);
            string label = outputs.Length == 1 ? name : name + " " + name1;
            output.WriteLine($"{label} ({what}): max relative error {error:0.00e+00} against ONNX Runtime");
            Assert.True(error <= OnnxRuntimeCheck.Tolerance, $"{label} ({what}): max relative error {error:0.00e+00} exceeds {OnnxRuntimeCheck.Tolerance:0e+00}");
        }
    }

    /// <summary>Row 0 full length, the others random lengths in [1, T].</summary>
    private static int[] Lengths(Random random, int batch, int length)
        => Enumerable.Range(0, batch).Select(n => n == 0 ? length : random.Next(1, length + 1)).ToArray();

    private static Tensor Mask(int[] lengths, int length)
        => Tensor.From(lengths.SelectMany(l => Enumerable.Range(0, length).Select(t => t < l ? 1f : 0f)).ToArray(), lengths.Length, length);

    /// <summary>Ids in [1, vocabulary) at valid steps, the padding id 0 after.</summary>
    private static Tensor Tokens(Random random, int[] lengths, int length, int vocabulary)
        => Tensor.From(lengths.SelectMany(l => Enumerable.Range(0, length).Select(t => t < l ? (long)random.Next(1, vocabulary) : 0L)).ToArray(), lengths.Length, length);

    private static Tensor Values(Random random, params int[] shape)
        => Tensor.From(Enumerable.Range(0, shape.Aggregate(1, (a, b) => a * b)).Select(_ => 2f * (float)random.NextDouble() - 1f).ToArray(), shape);
}
