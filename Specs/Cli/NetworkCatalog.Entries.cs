using Specs.Networks;

namespace Specs.Cli;

public static partial class NetworkCatalog
{
    /// <summary>Adam at lr 1e-3, batch 64, 10 epochs: what the course uses for the deeper networks.</summary>
    private static readonly Recipe Adam = Recipe.CourseSgd with { Optimizer = OptimizerKind.Adam, LearningRate = 1e-3f };

    /// <summary>Adam annealed to 0 over the epochs: what took ResNet-20 to 0.931 in 10 epochs here.</summary>
    private static readonly Recipe AdamCosine = Adam with { Schedule = "cosine" };

    /// <summary>
    /// The GRU's recipe at Adam 1e-3: a post-norm Transformer trained without warm-up wants a smaller step than the GRU's
    /// 2e-3.
    /// </summary>
    private static readonly Seq2Seq.Seq2SeqRecipe TransformerSeq2SeqRecipe = Seq2Seq.Seq2SeqRecipe.Default with { LearningRate = 1e-3f };

    // One entry per network of Specs/Networks; the name is what 'train' and 'summary' take.
    private static readonly IReadOnlyList<NetworkInfo> Entries =
    [
        new("mlp", "784-256-128-100-10 perceptron of the Fashion-MNIST benchmark table (0.883 there)",
            (d, s) => new Mlp(d, s), () => Mlp.Summary, Mlp.InputShape,
            Recipe.CourseSgd with { LearningRate = 0.05f, Momentum = 0.9f, Schedule = "cosine" }),
        new("residual-mlp", "an MLP of residual blocks written with var bindings and '+'",
            (d, s) => new ResidualMlp(d, s), () => ResidualMlp.Summary, ResidualMlp.InputShape, Recipe.CourseSgd),
        new("mnist-net", "PyTorch's MNIST example network (conv 10@5x5, conv 20@5x5, Dropout2d, fc 320-50-10)",
            (d, s) => new MnistNet(d, s), () => MnistNet.Summary, MnistNet.InputShape, Recipe.CourseSgd),
        new("two-conv", "'2 Conv+pooling' of the Fashion-MNIST benchmark table (0.916 there)",
            (d, s) => new TwoConvNet(d, s), () => TwoConvNet.Summary, TwoConvNet.InputShape, Adam),
        new("lenet5", "LeNet-5 with tanh and average pooling, padded for 28x28",
            (d, s) => new LeNet5(d, s), () => LeNet5.Summary, LeNet5.InputShape, Adam),
        new("alexnet", "AlexNet's design sized for 28x28: five convolutions, two dropout dense layers",
            (d, s) => new AlexNetSmall(d, s), () => AlexNetSmall.Summary, AlexNetSmall.InputShape, Adam),
        new("vgg", "VGG blocks of 3x3 convolutions (Repeat inside a block)",
            (d, s) => new VggSmall(d, s), () => VggSmall.Summary, VggSmall.InputShape, Adam),
        new("vgg11", "VGG-11 with batch norm, built by a loop from torchvision's configuration list (cfgs['A'])",
            (d, s) => new Vgg11(d, s), () => Vgg11.Summary, Vgg11.InputShape, Adam),
        new("googlenet", "GoogLeNet-style network of Inception modules (Concat of four branches)",
            (d, s) => new GoogLeNetSmall(d, s), () => GoogLeNetSmall.Summary, GoogLeNetSmall.InputShape, Adam),
        new("resnet20", "ResNet-20: basic residual blocks with batch norm, projected shortcuts when downsampling",
            (d, s) => new ResNet20(d, s), () => ResNet20.Summary, ResNet20.InputShape, AdamCosine),
        new("densenet", "DenseNet-BC: dense blocks where every layer sees all earlier feature maps",
            (d, s) => new DenseNetBC(d, s), () => DenseNetBC.Summary, DenseNetBC.InputShape, AdamCosine),
        // 'train seq2seq' runs its own loop (Specs/Seq2Seq): a generated task, teacher forcing, greedy decoding.
        new(Seq2Seq.Seq2SeqCommand.NetworkName, "GRU encoder-decoder with attention on a generated task (reversing digit strings by default)",
            (d, s) => new Seq2SeqGru(d, s), () => Seq2SeqGru.Summary, [-1], Seq2Seq.Seq2SeqRecipe.Default.AsRecipe())
        {
            Task = new Seq2SeqTask<Seq2SeqGru>((net, source, mask, target) => net.Forward(source, mask, target))
            {
                SourceVocabularySize = Seq2SeqGru.SourceVocabularySize,
                TargetVocabularySize = Seq2SeqGru.TargetVocabularySize,
                AttentionReadout = Seq2SeqGru.AttentionReadout,
            },
        },
        // The encoder-decoder Transformer on the same generated pairs, trained and decoded by the same loop.
        new("transformer-seq2seq", "encoder-decoder Transformer (2+2 layers, d 64, 4 heads) on the generated seq2seq task of 'seq2seq'",
            (d, s) => new TransformerSeq2Seq(d, s), () => TransformerSeq2Seq.Summary, [-1], TransformerSeq2SeqRecipe.AsRecipe())
        {
            Task = new Seq2SeqTask<TransformerSeq2Seq>((net, source, mask, target) => net.Forward(source, mask, target))
            {
                SourceVocabularySize = TransformerSeq2Seq.SourceVocabularySize,
                TargetVocabularySize = TransformerSeq2Seq.TargetVocabularySize,
                AttentionReadout = "decoder2.multihead_attn.weights",
                Recipe = TransformerSeq2SeqRecipe,
            },
        },
    ];
}
