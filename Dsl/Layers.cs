using System.Globalization;

namespace Dsl;

/// <summary>
/// The layer catalogue, named and defaulted as in PyTorch. Shapes below omit the batch dimension N, which is
/// implicit and first. Every argument that decides a shape must be a compile-time constant (a literal, a
/// <c>const</c> or a parameter of the enclosing block); the generator reports anything else.
/// Layers with parameters take an optional <c>name</c>; by default they are numbered per kind in definition
/// order: <c>fc1</c>, <c>fc2</c>, ... for <see cref="Linear(int, bool, string?)"/>, so parameters are called
/// <c>fc1.weight</c> <c>[out, in]</c> and <c>fc1.bias</c> <c>[out]</c> as in PyTorch's examples.
/// </summary>
public static class Layers
{
    /// <summary>Declares the network input, per sample: <c>Input(784)</c> is [N,784], <c>Input(1, 28, 28)</c> is [N,1,28,28].</summary>
    public static Net Input(params int[] shape) => new($"Input({Join(shape)})");

    /// <summary>
    /// Declares a named float32 input, per sample: a network may have several (<c>var image = Input("image", 1, 28, 28);
    /// var extra = Input("extra", 4);</c>). The generated <c>Forward</c> takes one tensor per input, in declaration order and
    /// named as declared (<c>Forward(image, extra)</c>), checks each shape and that all share the batch size N, and
    /// <c>InputGradients</c> holds their gradients. <paramref name="name"/> must be a C# identifier; an unnamed input is
    /// called <c>input</c>.
    /// </summary>
    public static Net Input(string name, params int[] shape) => new($"Input(\"{name}\", {Join(shape)})");

    /// <summary>
    /// Declares a named float32 input whose dimensions may be symbols: <c>Input("x", "T", 16)</c> is [N,T,16]. The generated
    /// <c>Forward</c> binds each symbol from the first input that has it and checks that every other input agrees (the error
    /// names the network, the input, the symbol and both sizes). Buffers of symbolic shapes grow to the largest size seen
    /// and are reused after. Layers that need a fixed size refuse a symbol at compile time (DSL1012, DSL1013).
    /// </summary>
    public static Net Input(string name, params Dim[] shape) => new($"Input(\"{name}\", {Join(shape)})");

    /// <summary>
    /// What <c>Define()</c> returns when the network has several outputs: <c>return Outputs(logits, state);</c>. The
    /// generated <c>ForwardAll</c> returns a tuple named after the variables (<c>(Tensor logits, Tensor state)</c>; a value
    /// that is not a variable is <c>output0</c>, <c>output1</c>, ...), and <c>Backward(dLogits, dState)</c> takes one
    /// gradient per output, null for an output the loss does not use. An output may also feed other layers.
    /// </summary>
    public static Net Outputs(params Net[] values) => new($"Outputs({string.Join(", ", values.Select(v => v.Description))})");

    /// <summary>
    /// Declares a named int64 input of token ids (PyTorch's <c>torch.long</c>): <c>Tokens("tokens", "T")</c> is [N,T].
    /// It carries no gradient. No layer consumes tokens yet: the input is bound and checked (its dtype, its fixed sizes
    /// and its symbols against the other inputs), and a layer applied to it is a diagnostic (DSL1014).
    /// </summary>
    public static Net Tokens(string name, params Dim[] shape) => new($"Tokens(\"{name}\", {Join(shape)})");

    /// <summary>
    /// Declares a named mask input, float32 holding 0 or 1: <c>Mask("mask", "T")</c> is [N,T]. It carries no gradient.
    /// No layer consumes masks yet: the input is bound and checked like <see cref="Tokens"/> (its symbols agree with the
    /// other inputs'), and a layer applied to it is a diagnostic (DSL1014).
    /// </summary>
    public static Net Mask(string name, params Dim[] shape) => new($"Mask(\"{name}\", {Join(shape)})");

    /// <summary>
    /// Affine map on the last dimension (<c>nn.Linear</c>): [..., in] -> [..., <paramref name="outFeatures"/>], in-features inferred.
    /// Weight [out, in] and bias [out] start as U(-1/sqrt(in), 1/sqrt(in)).
    /// </summary>
    public static Layer Linear(int outFeatures, bool bias = true, string? name = null) => new($"Linear({outFeatures})");

    /// <summary>
    /// Affine map on the last dimension with its in-features stated: [..., <paramref name="inFeatures"/>] -> [..., <paramref name="outFeatures"/>].
    /// The generator checks that <paramref name="inFeatures"/> matches what arrives.
    /// </summary>
    public static Layer Linear(int inFeatures, int outFeatures, bool bias = true, string? name = null) => new($"Linear({inFeatures}, {outFeatures})");

    /// <summary>The identity (<c>nn.Identity</c>): passes its input on unchanged, for example as the kept branch of a <see cref="Concat(Layer[])"/>.</summary>
    public static Layer Identity => new("Identity");

    /// <summary>max(0, x), any shape.</summary>
    public static Layer Relu => new("Relu");

    /// <summary>tanh(x), any shape.</summary>
    public static Layer Tanh => new("Tanh");

    /// <summary>1/(1+exp(-x)), any shape.</summary>
    public static Layer Sigmoid => new("Sigmoid");

    /// <summary>
    /// Zeroes each element with probability <paramref name="p"/> in training and scales the rest by 1/(1-p)
    /// (<c>nn.Dropout</c>); the identity in evaluation. Any shape.
    /// </summary>
    public static Layer Dropout(double p = 0.5, string? name = null) => new($"Dropout({F(p)})");

    /// <summary>[C, H, W, ...] -> [C*H*W*...]: flattens everything but the batch (<c>nn.Flatten()</c>).</summary>
    public static Layer Flatten => new("Flatten");

    /// <summary>Softmax over the last dimension.</summary>
    public static Layer Softmax => new("Softmax");

    /// <summary>Log-softmax over the last dimension (pair it with <c>Loss.Nll</c>).</summary>
    public static Layer LogSoftmax => new("LogSoftmax");

    // ------------------------------------------------------------------ activations with a parameter

    /// <summary>x if x &gt; 0 else <paramref name="negativeSlope"/> * x (<c>nn.LeakyReLU</c>), any shape.</summary>
    public static Layer LeakyRelu(double negativeSlope = 0.01) => new($"LeakyRelu({F(negativeSlope)})");

    /// <summary>x if x &gt; 0 else <paramref name="alpha"/> * (exp(x) - 1) (<c>nn.ELU</c>), any shape.</summary>
    public static Layer Elu(double alpha = 1.0) => new($"Elu({F(alpha)})");

    /// <summary>x * Phi(x) with the exact Gaussian CDF (<c>nn.GELU()</c>), any shape.</summary>
    public static Layer Gelu => new("Gelu");

    /// <summary>
    /// log(1 + exp(<paramref name="beta"/> * x)) / beta, and x itself where beta * x &gt; <paramref name="threshold"/>
    /// (<c>nn.Softplus(beta=1, threshold=20)</c>), any shape. Beta must not be zero.
    /// </summary>
    public static Layer Softplus(double beta = 1.0, double threshold = 20.0) => new($"Softplus({F(beta)}, {F(threshold)})");

    // ------------------------------------------------------------------ convolution and pooling: [C, H, W] in, [C', H', W'] out

    /// <summary>
    /// 2-D convolution (<c>nn.Conv2d</c>, cross-correlation): [C, H, W] -> [<paramref name="outChannels"/>, H', W'] with
    /// H' = floor((H + 2*padding - dilation*(kernel-1) - 1) / stride) + 1. In-channels are inferred; weight
    /// [out, C/groups, kernel, kernel] and bias [out] start as U(-1/sqrt(fanIn), 1/sqrt(fanIn)), fanIn = C/groups*kernel^2.
    /// Default names: conv1, conv2, ...
    /// </summary>
    public static Layer Conv2d(int outChannels, int kernel, int stride = 1, int padding = 0, int dilation = 1, int groups = 1, bool bias = true, string? name = null)
        => new($"Conv2d({outChannels}, kernel: {kernel})");

    /// <summary>
    /// 2-D convolution with named padding: <c>"same"</c> keeps H and W (stride 1 only; an even total padding is split
    /// with the extra row and column at the bottom and right, as PyTorch does) and <c>"valid"</c> means none.
    /// </summary>
    public static Layer Conv2d(int outChannels, int kernel, string padding, int stride = 1, int dilation = 1, int groups = 1, bool bias = true, string? name = null)
        => new($"Conv2d({outChannels}, kernel: {kernel}, padding: \"{padding}\")");

    /// <summary>Max pooling (<c>nn.MaxPool2d</c>): [C, H, W] -> [C, H', W']; <paramref name="stride"/> defaults to the kernel size.</summary>
    public static Layer MaxPool2d(int kernel, int? stride = null, int padding = 0) => new($"MaxPool2d({kernel})");

    /// <summary>
    /// Average pooling (<c>nn.AvgPool2d</c>): [C, H, W] -> [C, H', W']; with <paramref name="countIncludePad"/> (PyTorch's default)
    /// padded zeros count in each window's divisor.
    /// </summary>
    public static Layer AvgPool2d(int kernel, int? stride = null, int padding = 0, bool countIncludePad = true) => new($"AvgPool2d({kernel})");

    /// <summary>Adaptive average pooling to a fixed size (<c>nn.AdaptiveAvgPool2d</c>): [C, H, W] -> [C, outputSize, outputSize].</summary>
    public static Layer AdaptiveAvgPool2d(int outputSize) => new($"AdaptiveAvgPool2d({outputSize})");

    /// <summary>Adaptive average pooling to [C, <paramref name="outHeight"/>, <paramref name="outWidth"/>].</summary>
    public static Layer AdaptiveAvgPool2d(int outHeight, int outWidth) => new($"AdaptiveAvgPool2d({outHeight}, {outWidth})");

    /// <summary>Global average pooling: [C, H, W] -> [C, 1, 1] (<c>nn.AdaptiveAvgPool2d(1)</c>).</summary>
    public static Layer GlobalAvgPool2d => new("GlobalAvgPool2d");

    /// <summary>Zeroes whole channels with probability <paramref name="p"/> in training (<c>nn.Dropout2d</c>): [C, H, W] -> [C, H, W].</summary>
    public static Layer Dropout2d(double p = 0.5, string? name = null) => new($"Dropout2d({F(p)})");

    /// <summary>
    /// Batch normalisation over each channel of [C, H, W] (<c>nn.BatchNorm2d</c>): batch statistics in training,
    /// running statistics (momentum <paramref name="momentum"/>, unbiased variance) in evaluation. Weight 1, bias 0,
    /// running_mean 0, running_var 1 at the start. Default names: bn1, bn2, ...
    /// </summary>
    public static Layer BatchNorm2d(double eps = 1e-5, double momentum = 0.1, string? name = null) => new("BatchNorm2d");

    /// <summary>
    /// <see cref="BatchNorm2d(double, double, string?)"/> with the channels stated as PyTorch takes them
    /// (<c>nn.BatchNorm2d(64)</c>): the generator checks that <paramref name="numFeatures"/> is the C that arrives.
    /// </summary>
    public static Layer BatchNorm2d(int numFeatures, double eps = 1e-5, double momentum = 0.1, string? name = null) => new($"BatchNorm2d({numFeatures})");

    /// <summary>
    /// Batch normalisation over each channel of [C] or [C, L] (<c>nn.BatchNorm1d</c>): statistics over the batch (and L),
    /// the same training and evaluation behaviour, parameters and buffers as <see cref="BatchNorm2d(double, double, string?)"/>;
    /// typically after a <c>Linear</c> ([N,C]) or a <c>Conv1d</c> ([N,C,L]). Default names: bn1, bn2, ...
    /// </summary>
    public static Layer BatchNorm1d(double eps = 1e-5, double momentum = 0.1, string? name = null) => new("BatchNorm1d");

    /// <summary>
    /// <see cref="BatchNorm1d(double, double, string?)"/> with the channels stated as PyTorch takes them
    /// (<c>nn.BatchNorm1d(64)</c>): the generator checks that <paramref name="numFeatures"/> is the C that arrives.
    /// </summary>
    public static Layer BatchNorm1d(int numFeatures, double eps = 1e-5, double momentum = 0.1, string? name = null) => new($"BatchNorm1d({numFeatures})");

    /// <summary>
    /// Layer normalisation over the last dimension (<c>nn.LayerNorm(normalized_shape=[D])</c>; Ba, Kiros and Hinton, 2016):
    /// [..., D] -> [..., D], each row of D values normalised with its own mean and biased variance, then scaled by weight [D]
    /// (1 at the start) and shifted by bias [D] (0) when <paramref name="elementwiseAffine"/>. Default names: ln1, ln2, ...
    /// </summary>
    public static Layer LayerNorm(int normalizedShape, double eps = 1e-5, bool elementwiseAffine = true, string? name = null) => new($"LayerNorm({normalizedShape})");

    /// <summary>
    /// Layer normalisation over the last two dimensions (<c>nn.LayerNorm([D0, D1])</c>): [..., D0, D1] -> [..., D0, D1];
    /// weight and bias [D0, D1]. See <see cref="LayerNorm(int, double, bool, string?)"/>.
    /// </summary>
    public static Layer LayerNorm(int normalizedShape0, int normalizedShape1, double eps = 1e-5, bool elementwiseAffine = true, string? name = null)
        => new($"LayerNorm({normalizedShape0}, {normalizedShape1})");

    /// <summary>
    /// Layer normalisation over the last three dimensions (<c>nn.LayerNorm([C, H, W])</c>): [C, H, W] -> [C, H, W]; weight
    /// and bias [C, H, W]. See <see cref="LayerNorm(int, double, bool, string?)"/>.
    /// </summary>
    public static Layer LayerNorm(int normalizedShape0, int normalizedShape1, int normalizedShape2, double eps = 1e-5, bool elementwiseAffine = true, string? name = null)
        => new($"LayerNorm({normalizedShape0}, {normalizedShape1}, {normalizedShape2})");

    // ------------------------------------------------------------------ recurrent layers: [T, D] in, [T, H] or [T, 2H] out

    /// <summary>
    /// Elman RNN (<c>nn.RNN(batch_first=True)</c>): h_t = act(W_ih x_t + b_ih + W_hh h_(t-1) + b_hh) with act
    /// <paramref name="nonlinearity"/> <c>"tanh"</c> or <c>"relu"</c>; [T, D] -> [T, <paramref name="hidden"/>], or [T, 2H]
    /// when <paramref name="bidirectional"/> (forward and reverse outputs concatenated). <paramref name="layers"/> stacked
    /// layers, with dropout <paramref name="dropout"/> on the outputs of every layer but the last in training.
    /// <paramref name="mask"/> (a <c>Mask</c> [T], 1s then 0s) makes the recurrence ignore padding as PyTorch's packed
    /// sequences do (padding outputs 0, the reverse direction starts at each sample's last valid step). <paramref name="h0"/>
    /// is the initial state, [layers*dirs, H] per sample (PyTorch's [layers*dirs, N, H] with the batch first), or [H] for one
    /// layer in one direction; zeros when absent. Parameters as PyTorch: <c>rnn1.weight_ih_l0</c> [H, D],
    /// <c>weight_hh_l0</c> [H, H], <c>bias_ih_l0</c>, <c>bias_hh_l0</c> [H], <c>..._reverse</c>, all U(-1/sqrt(H), 1/sqrt(H)).
    /// Pipe into <see cref="Last"/> for the last hidden state. Default names: rnn1, rnn2, ...
    /// </summary>
    public static Layer Rnn(int hidden, string nonlinearity = "tanh", int layers = 1, bool bidirectional = false, double dropout = 0.0, bool bias = true,
        Net? mask = null, Net? h0 = null, string? name = null)
        => new($"Rnn({hidden})");

    /// <summary>
    /// Long short-term memory (<c>nn.LSTM(batch_first=True)</c>, gates i, f, g, o in PyTorch's order): [T, D] -> [T, H] or
    /// [T, 2H]; <paramref name="layers"/>, <paramref name="bidirectional"/>, <paramref name="dropout"/>,
    /// <paramref name="mask"/> and <paramref name="h0"/> as <see cref="Rnn"/>, and <paramref name="c0"/> the initial cell
    /// state in <paramref name="h0"/>'s layout. Parameters <c>lstm1.weight_ih_l0</c> [4H, D], <c>weight_hh_l0</c> [4H, H],
    /// biases [4H]. Default names: lstm1, lstm2, ...
    /// </summary>
    public static Layer Lstm(int hidden, int layers = 1, bool bidirectional = false, double dropout = 0.0, bool bias = true,
        Net? mask = null, Net? h0 = null, Net? c0 = null, string? name = null)
        => new($"Lstm({hidden})");

    /// <summary>
    /// Gated recurrent unit (<c>nn.GRU(batch_first=True)</c>, gates r, z, n in PyTorch's order): [T, D] -> [T, H] or [T, 2H];
    /// arguments as <see cref="Rnn"/>. Parameters <c>gru1.weight_ih_l0</c> [3H, D], <c>weight_hh_l0</c> [3H, H], biases
    /// [3H]. Default names: gru1, gru2, ...
    /// </summary>
    public static Layer Gru(int hidden, int layers = 1, bool bidirectional = false, double dropout = 0.0, bool bias = true,
        Net? mask = null, Net? h0 = null, string? name = null)
        => new($"Gru({hidden})");

    /// <summary>
    /// The last hidden state of the top layer of the recurrent layer it follows: [T, dirs*H] -> [dirs*H], the forward
    /// direction's state after each sample's last valid step and, when bidirectional, the reverse direction's after step 0
    /// (PyTorch's <c>cat(h_n[-2], h_n[-1])</c>). Its gradient flows back through time. Only after <see cref="Rnn"/>,
    /// <see cref="Lstm"/> or <see cref="Gru"/>: <c>var state = x | Gru(64) | Last;</c>
    /// </summary>
    public static Layer Last => new("Last");

    /// <summary>
    /// Attention pooling over time: [T, D] -> [D]. Importance i_t = x_t . c with a learned context vector
    /// <c>attention1.context</c> [D] (initialised U(-1/sqrt(D), 1/sqrt(D)), as a Linear(D, 1) weight), weights
    /// a = softmax(i) over the valid steps of <paramref name="mask"/> (all steps without one), output sum_t a_t x_t. The
    /// weights [N, T] of the last Forward are readable as <c>net.Readout("attention1.weights")</c> (the layer's name and
    /// <c>.weights</c>). Default names: attention1, attention2, ...
    /// </summary>
    public static Layer AttentionPool(Net? mask = null, string? name = null) => new("AttentionPool");

    // ------------------------------------------------------------------ operations with several values

    /// <summary>
    /// Splits dimension <paramref name="dim"/> (counting the batch as 0, negative from the end; the channels by default) into
    /// <paramref name="chunks"/> equal values (<c>torch.chunk</c>): [C, ...] -> <paramref name="chunks"/> x [C/chunks, ...].
    /// The chunks must divide the dimension, which must have a fixed size (a diagnostic otherwise); the other dimensions may
    /// be symbols. The result has several values: pick one with <see cref="Select"/>.
    /// </summary>
    public static Layer Chunk(int chunks, int dim = 1) => new(dim == 1 ? $"Chunk({chunks})" : $"Chunk({chunks}, dim: {dim})");

    /// <summary>
    /// Splits dimension <paramref name="dim"/> into parts of <paramref name="splitSize"/> (<c>torch.split</c> with an int),
    /// which must divide it into at least 2 equal parts; pick one with <see cref="Select"/>.
    /// </summary>
    public static Layer Split(int splitSize, int dim = 1) => new($"Split({splitSize}, dim: {dim})");

    /// <summary>
    /// Value number <paramref name="index"/> (from 0) of an operation that produces several, such as <see cref="Chunk(int, int)"/>:
    /// <c>var parts = x | Chunk(2); var gate = parts | Select(1) | Sigmoid;</c>
    /// </summary>
    public static Layer Select(int index) => new($"Select({index})");

    // ------------------------------------------------------------------ sequences: token ids [T] in, values [T, D] out

    /// <summary>
    /// A lookup table (<c>nn.Embedding</c>) on int64 token ids from <see cref="Tokens"/>: [T] -> [T, <paramref name="dim"/>]
    /// (any shape of ids, a dimension appended). Weight <c>embedding1.weight</c> [<paramref name="num"/>, dim] starts as
    /// N(0, 1); the row <paramref name="paddingIdx"/> (when given) starts at zero and never receives a gradient. An id
    /// outside [0, num) is refused when <c>Forward</c> runs. With <paramref name="freeze"/> the table is not trained
    /// (<c>Parameter.RequiresGrad</c> false: no gradient is computed and optimisers skip it), as
    /// <c>nn.Embedding.from_pretrained(freeze=True)</c>; load a pretrained table with <c>Module.LoadParameter</c>.
    /// Default names: embedding1, embedding2, ...
    /// </summary>
    public static Layer Embedding(int num, int dim, int? paddingIdx = null, bool freeze = false, string? name = null)
        => new($"Embedding({num}, {dim})");

    /// <summary>
    /// Swaps two dimensions (<c>torch.transpose(x, dim0, dim1)</c>), counted on the full shape with the batch as 0 (negative
    /// from the end; the batch cannot move): <c>Transpose(1, 2)</c> turns an embedding [T, D] into [D, T] for
    /// <see cref="Conv1d"/>. Symbols move with their dimension. The value is copied into its own buffer.
    /// </summary>
    public static Layer Transpose(int dim0, int dim1) => new($"Transpose({dim0}, {dim1})");

    /// <summary>
    /// 1-D convolution (<c>nn.Conv1d</c>, cross-correlation): [C, L] -> [<paramref name="outChannels"/>, L'] with
    /// L' = floor((L + 2*padding - dilation*(kernel-1) - 1) / stride) + 1; L may be a symbol (L' is then an expression of it,
    /// and <c>Forward</c> refuses a batch too short for the window). Weight [out, C/groups, kernel] and bias [out] start as
    /// U(-1/sqrt(fanIn), 1/sqrt(fanIn)), fanIn = C/groups*kernel. Default names: conv1, conv2, ...
    /// </summary>
    public static Layer Conv1d(int outChannels, int kernel, int stride = 1, int padding = 0, int dilation = 1, int groups = 1, bool bias = true, string? name = null)
        => new($"Conv1d({outChannels}, kernel: {kernel})");

    /// <summary>Max pooling (<c>nn.MaxPool1d</c>): [C, L] -> [C, L'], L' = floor((L + 2*padding - kernel) / stride) + 1; stride defaults to the kernel.</summary>
    public static Layer MaxPool1d(int kernel, int? stride = null, int padding = 0) => new($"MaxPool1d({kernel})");

    /// <summary>Average pooling (<c>nn.AvgPool1d</c>): [C, L] -> [C, L']; with <paramref name="countIncludePad"/> padded zeros count in the divisor.</summary>
    public static Layer AvgPool1d(int kernel, int? stride = null, int padding = 0, bool countIncludePad = true) => new($"AvgPool1d({kernel})");

    /// <summary>
    /// The maximum over time of each channel (Collobert et al., 2011; Kim, 2014): [C, T] -> [C]. With <paramref name="mask"/>
    /// (a <c>Mask(...)</c> input [T] with the value's length symbol) only the valid steps of each row count, and a row with no
    /// valid step gives 0. The gradient goes to the step that won.
    /// </summary>
    public static Layer MaxOverTime(Net? mask = null) => new("MaxOverTime");

    /// <summary>The mean over time of each channel: [C, T] -> [C], over the valid steps of each row when <paramref name="mask"/> is given (0 for none).</summary>
    public static Layer MeanOverTime(Net? mask = null) => new("MeanOverTime");

    // ------------------------------------------------------------------ value functions: several values in, one out

    /// <summary>
    /// Joins two values along dimension <paramref name="dim"/> of the full shape (the batch is dimension 0; negative counts
    /// from the end, as <c>torch.cat</c>): <c>Concat(a, b, dim: -1)</c> of [T,16] and [T,8] is [T,24]. Every other dimension
    /// must agree, symbolic ones exactly (<c>T</c> never matches <c>S</c> or 5). The gradient splits back to both.
    /// </summary>
    public static Net Concat(Net a, Net b, int dim = -1) => new($"Concat({a.Description}, {b.Description}, dim: {dim})");

    // ------------------------------------------------------------------ combinators

    /// <summary>
    /// y = body(x) + x, or body(x) + projection(x) when the body changes the shape (He et al., 2016). The body's output
    /// must have the input's shape, or the projection's.
    /// </summary>
    public static Layer Residual(Layer body, Layer? projection = null) => new($"Residual({body.Description})");

    /// <summary>
    /// Applies every branch to the same input and concatenates the results along channels (dimension 1 with the batch):
    /// [C1, H, W] ++ [C2, H, W] -> [C1 + C2, H, W]. All other dimensions must agree (Inception, DenseNet).
    /// </summary>
    public static Layer Concat(params Layer[] branches) => new($"Concat({string.Join(", ", branches.Select(b => b.Description))})");

    /// <summary>
    /// Scaled dot-product attention of one head (PyTorch's <c>F.scaled_dot_product_attention</c>; Luong et al. 2015 with a
    /// decoder's states as queries over an encoder's outputs): <paramref name="query"/> [T,D], <paramref name="keys"/> [S,D] and
    /// <paramref name="values"/> [S,Dv] give [T,Dv], each output row the values weighted by softmax over the S keys of
    /// q.k * <paramref name="scale"/> (default 1/sqrt(D)). <paramref name="mask"/> [S] (a <see cref="Mask"/> input: 1 for a
    /// real key, 0 for padding) gives padded keys weight 0. T and S may be symbols; D and Dv are fixed. The weights [N,T,S]
    /// are readable after <c>Forward</c> as <c>Readout("attention1.weights")</c> (the layer's name, attention1, attention2, ...
    /// or <paramref name="name"/>). A value function: <c>var context = Attention(decoded, encoded, encoded, mask: srcMask);</c>.
    /// </summary>
    public static Net Attention(Net query, Net keys, Net values, Net? mask = null, double? scale = null, string? name = null)
        => new($"Attention({query.Description}, {keys.Description}, {values.Description}" + (mask is null ? "" : $", mask: {mask.Description}")
            + (scale is null ? "" : $", scale: {F(scale.Value)}") + ")");

    /// <summary><paramref name="count"/> copies of <paramref name="layer"/> in sequence, each with its own parameters.</summary>
    public static Layer Repeat(int count, Layer layer) => new($"Repeat({count}, {layer.Description})");

    // ------------------------------------------------------------------ PyTorch's layer options: (height, width) pairs and ceil_mode (transfer learning)

    /// <summary>
    /// 2-D convolution with a size per dimension, PyTorch's tuples (<c>nn.Conv2d(64, 64, kernel_size=(1, 7), padding=(0, 3))</c>):
    /// <c>Conv2d(64, kernel: (1, 7), padding: (0, 3))</c>. Each of <paramref name="kernel"/>, <paramref name="stride"/> (default 1),
    /// <paramref name="padding"/> (default 0) and <paramref name="dilation"/> (default 1) is one number for both dimensions or a
    /// <c>(height, width)</c> pair. H' = floor((H + 2*padH - dilationH*(kernelH-1) - 1) / strideH) + 1, likewise W'; weight
    /// [out, C/groups, kernelH, kernelW]. Inception-v3's 1x7 and 7x1 convolutions.
    /// </summary>
    public static Layer Conv2d(int outChannels, Size2 kernel, Size2? stride = null, Size2? padding = null, Size2? dilation = null, int groups = 1, bool bias = true, string? name = null)
        => new($"Conv2d({outChannels}, kernel: {kernel})");

    /// <summary>2-D convolution with a size per dimension and named padding (<c>"same"</c>, stride 1; or <c>"valid"</c>).</summary>
    public static Layer Conv2d(int outChannels, Size2 kernel, string padding, Size2? stride = null, Size2? dilation = null, int groups = 1, bool bias = true, string? name = null)
        => new($"Conv2d({outChannels}, kernel: {kernel}, padding: \"{padding}\")");

    /// <summary>
    /// Max pooling with a size per dimension and PyTorch's <c>ceil_mode</c>: <c>MaxPool2d((3, 2), stride: (2, 1), ceilMode: true)</c>.
    /// <paramref name="stride"/> defaults to the kernel; padding is at most half the kernel. With <paramref name="ceilMode"/>,
    /// H' = ceil((H + 2*padH - kernelH) / strideH) + 1, less one when the last window would start in the bottom padding or
    /// beyond (it must start inside the input or its top padding); windows may then reach past the input and see only what
    /// lies inside.
    /// </summary>
    public static Layer MaxPool2d(Size2 kernel, Size2? stride = null, Size2? padding = null, bool ceilMode = false) => new($"MaxPool2d({kernel})");

    /// <summary>
    /// Average pooling with a size per dimension and PyTorch's <c>ceil_mode</c> (see <see cref="MaxPool2d(Size2, Size2?, Size2?, bool)"/>).
    /// A window's divisor counts the padding (with <paramref name="countIncludePad"/>) but never the part past the padded input.
    /// </summary>
    public static Layer AvgPool2d(Size2 kernel, Size2? stride = null, Size2? padding = null, bool ceilMode = false, bool countIncludePad = true) => new($"AvgPool2d({kernel})");

    // ------------------------------------------------------------------ transfer learning: frozen layers and named blocks

    /// <summary>
    /// <paramref name="layer"/> (any layer, block or combinator) with its parameters frozen from the start
    /// (<c>RequiresGrad = false</c>, PyTorch's <c>requires_grad_(False)</c>): no gradient, optimisers skip them, and
    /// <c>Backward</c> skips the layers under the lowest trained one. <c>net.Unfreeze(...)</c> trains them later.
    /// The summary marks them "(frozen)" and counts the trainable parameters apart.
    /// </summary>
    public static Layer Frozen(Layer layer) => new($"Frozen({layer.Description})");

    /// <summary>
    /// <paramref name="layer"/> under the block name <paramref name="name"/>: its parameters are named
    /// <c>name.conv1.weight</c>, <c>name.bn1.running_mean</c>, ... (numbered within the block, PyTorch's dotted names), so a
    /// trunk's checkpoint maps onto another network by prefix (<c>Checkpoint.Load(net, file, prefix:, addPrefix:)</c>) and
    /// <c>net.Freeze("trunk")</c> freezes it whole. Blocks nest (<c>"encoder.stem"</c>).
    /// </summary>
    public static Layer Named(string name, Layer layer) => new($"Named({name}, {layer.Description})");
    // ================================================================== tensor operations on values (issue 8, tdsl)
    //
    // Value functions over network values [N, ...]. Dimension indices count the batch as 0, as Transpose and Concat(dim:)
    // do (1..rank-1, or negative from the end; the batch cannot move). Shapes (View, Reshape) list the per-sample sizes
    // only, as Input does: the batch is kept. A size may be a symbol ("T") or, once, -1 (inferred). Element-wise + - * /
    // are the operators of Net (with a number on either side too); they broadcast the per-sample dimensions as PyTorch
    // does, compared from the right (equal, 1 or missing), and the gradient of a broadcast operand is summed back.

    /// <summary>
    /// <c>torch.matmul</c> on the per-sample dimensions: [K] x [K] -> [1] (a dot product keeps one dimension), [M,K] x [K]
    /// -> [M], [K] x [K,P] -> [P], [M,K] x [K,P] -> [M,P], and batched products whose leading dimensions broadcast
    /// ([J,1,M,K] x [B,K,P] -> [J,B,M,P]). Symbols are allowed: [H,T,d] x [H,d,S] -> [H,T,S].
    /// </summary>
    public static Net MatMul(Net a, Net b) => new($"MatMul({a.Description}, {b.Description})");

    /// <summary>
    /// The same elements seen with another per-sample shape (<c>x.view(N, ...)</c>): one size may be -1, inferred from the
    /// element count, which must match (symbols included: [T, 32] -> [T, 4, 8] or [T, 4, -1]). The value is a view of the
    /// input when its shape is fixed, a copy otherwise.
    /// </summary>
    public static Net View(Net a, params Dim[] shape) => new($"View({a.Description}, {Join(shape)})");

    /// <summary>The same as <see cref="View"/> (<c>torch.reshape</c>; every network value is contiguous).</summary>
    public static Net Reshape(Net a, params Dim[] shape) => new($"Reshape({a.Description}, {Join(shape)})");

    /// <summary>Removes dimension <paramref name="dim"/> (counting the batch), which must have size 1 (<c>torch.squeeze(x, dim)</c>).</summary>
    public static Net Squeeze(Net a, int dim) => new($"Squeeze({a.Description}, {dim})");

    /// <summary>Inserts a dimension of size 1 at <paramref name="dim"/> (counting the batch; -1 appends), as <c>torch.unsqueeze</c>.</summary>
    public static Net Unsqueeze(Net a, int dim) => new($"Unsqueeze({a.Description}, {dim})");

    /// <summary>
    /// Reorders the dimensions (<c>x.permute(0, 2, 1, 3)</c>): <paramref name="dims"/> lists every dimension once, the batch
    /// (0) first; negative values count from the end. The value is copied into its own buffer.
    /// </summary>
    public static Net Permute(Net a, params int[] dims) => new($"Permute({a.Description}, {string.Join(", ", dims)})");

    /// <summary>The value-function form of <see cref="Transpose(int, int)"/>: <c>Transpose(k, -2, -1)</c> is k transposed.</summary>
    public static Net Transpose(Net a, int dim0, int dim1) => new($"Transpose({a.Description}, {dim0}, {dim1})");

    /// <summary>
    /// Positions <paramref name="start"/> (inclusive) to <paramref name="end"/> (exclusive) of dimension <paramref name="dim"/>
    /// (counting the batch), <c>x.narrow(dim, start, end - start)</c>; negative positions count from the end. The dimension
    /// must have a fixed size. Several slices of one value split it (<c>torch.split</c>).
    /// </summary>
    public static Net Slice(Net a, int dim, int start, int end) => new($"Slice({a.Description}, {dim}, {start}, {end})");

    /// <summary>
    /// The value-function form of <see cref="Chunk(int, int)"/>: <c>Chunk(qkv, 3, dim: -1)</c> splits [T, 3d] into three
    /// [T, d] (T may be a symbol); pick one with <see cref="Select"/>: <c>var parts = Chunk(qkv, 3, dim: -1); var q = parts | Select(0);</c>
    /// </summary>
    public static Net Chunk(Net a, int chunks, int dim = 1) => new($"Chunk({a.Description}, {chunks}, dim: {dim})");

    /// <summary>The value-function form of <see cref="Split(int, int)"/>: parts of <paramref name="splitSize"/> along <paramref name="dim"/>.</summary>
    public static Net Split(Net a, int splitSize, int dim = 1) => new($"Split({a.Description}, {splitSize}, dim: {dim})");

    /// <summary>
    /// Softmax over dimension <paramref name="dim"/> (counting the batch; -1 is the last), <c>torch.softmax(a, dim)</c>. (The
    /// name differs from the <see cref="Softmax"/> layer because C# cannot overload a property with a method.)
    /// </summary>
    public static Net SoftmaxDim(Net a, int dim = -1) => new($"SoftmaxDim({a.Description}, {dim})");

    /// <summary>Log-softmax over dimension <paramref name="dim"/> (<c>torch.log_softmax(a, dim)</c>).</summary>
    public static Net LogSoftmaxDim(Net a, int dim = -1) => new($"LogSoftmaxDim({a.Description}, {dim})");

    /// <summary>
    /// <c>a.masked_fill(mask, value)</c>: <paramref name="value"/> where <paramref name="mask"/> is nonzero, a elsewhere.
    /// The mask (a float 0/1 value: a <see cref="Mask"/> input, an input of 0s and 1s, or computed, <c>1.0 - m</c>) broadcasts
    /// to a's per-sample dimensions (a key-padding mask [S] over scores [H,T,S]); its symbols must be a's. The value may be
    /// <c>double.NegativeInfinity</c> or a large negative number. No gradient flows to the mask.
    /// </summary>
    public static Net MaskedFill(Net a, Net mask, double value) => new($"MaskedFill({a.Description}, {mask.Description}, {F(value)})");
    #region Transformer layers (issue 8: built-in multi-head attention, encoder and decoder layers, positional encoding)

    /// <summary>
    /// Multi-head attention (<c>nn.MultiheadAttention(d, heads, dropout, bias, batch_first=True)</c>, Vaswani et al. 2017):
    /// the input [T, d] gives the queries, <paramref name="memory"/> [S, d] the keys and values (the input itself when null:
    /// self-attention); [T, d] -> [T, d]. d must be divisible by <paramref name="heads"/>. Parameters <c>mha1.in_proj_weight</c>
    /// [3d, d] (Xavier uniform), <c>in_proj_bias</c> [3d] (zeros), <c>out_proj.weight</c> [d, d] (U(-1/sqrt(d), 1/sqrt(d))),
    /// <c>out_proj.bias</c> [d] (zeros); no biases when <paramref name="bias"/> is false. <paramref name="keyPadding"/> is a
    /// <see cref="Mask"/> input [S] (1 real key, 0 padding) whose padded keys get weight 0; <paramref name="causal"/> drops key
    /// s for query t when s &gt; t. <paramref name="dropout"/> acts on the attention weights in training. Default names mha1, mha2, ...
    /// </summary>
    public static Layer MultiHeadAttention(int heads, double dropout = 0.0, bool bias = true, Net? memory = null, Net? keyPadding = null, bool causal = false, string? name = null)
        => new($"MultiHeadAttention({heads})");

    /// <summary>
    /// A Transformer encoder layer (<c>nn.TransformerEncoderLayer(d, heads, dimFeedforward, dropout, activation,
    /// layer_norm_eps, batch_first=True, norm_first)</c>): [T, d] -> [T, d], d read from the input and divisible by
    /// <paramref name="heads"/>. Self-attention then linear2(dropout(activation(linear1(x)))), each with dropout, a residual
    /// sum and a LayerNorm after it, or before the block when <paramref name="normFirst"/>. <paramref name="activation"/> is
    /// "relu" or "gelu". Parameters with PyTorch's names: <c>encoder1.self_attn.in_proj_weight</c>, ..., <c>linear1.weight</c>
    /// [ff, d], <c>linear2.weight</c> [d, ff], <c>norm1.weight</c>, <c>norm2.bias</c>. <paramref name="keyPadding"/> is a
    /// <see cref="Mask"/> input [T] (1 real, 0 padding). Default names encoder1, encoder2, ...
    /// </summary>
    public static Layer TransformerEncoderLayer(int heads, int dimFeedforward = 2048, double dropout = 0.1, string activation = "relu", bool normFirst = false,
        double layerNormEps = 1e-5, Net? keyPadding = null, bool causal = false, string? name = null)
        => new($"TransformerEncoderLayer({heads})");

    /// <summary>
    /// A Transformer decoder layer (<c>nn.TransformerDecoderLayer(d, heads, ..., batch_first=True)</c>): [T, d] with the
    /// encoder's output <paramref name="memory"/> [S, d] -> [T, d]. Self-attention (causal by default, as a decoder trained
    /// with teacher forcing needs), attention over the memory (<c>multihead_attn</c>), the feed-forward block, each with
    /// dropout, a residual sum and its LayerNorm (norm1, norm2, norm3). <paramref name="keyPadding"/> [T] masks the decoder's
    /// own padding, <paramref name="memoryKeyPadding"/> [S] the memory's. Default names decoder1, decoder2, ...
    /// </summary>
    public static Layer TransformerDecoderLayer(int heads, Net? memory = null, int dimFeedforward = 2048, double dropout = 0.1, string activation = "relu",
        bool normFirst = false, double layerNormEps = 1e-5, Net? keyPadding = null, Net? memoryKeyPadding = null, bool causal = true, string? name = null)
        => new($"TransformerDecoderLayer({heads})");

    /// <summary>
    /// Sinusoidal positional encoding added to a sequence [T, d] (Vaswani et al. 2017, section 3.5):
    /// PE(pos, 2i) = sin(pos / 10000^(2i/d)), PE(pos, 2i+1) = cos(pos / 10000^(2i/d)); then dropout with
    /// <paramref name="dropout"/> in training. No parameters. A batch longer than <paramref name="maxLen"/> is refused when
    /// <c>Forward</c> runs.
    /// </summary>
    public static Layer PositionalEncoding(int maxLen = 5000, double dropout = 0.0) => new($"PositionalEncoding({maxLen})");

    #endregion

    private static string Join(int[] shape) => string.Join(", ", shape);

    private static string Join(Dim[] shape) => string.Join(", ", shape.Select(d => d.Symbol is null ? d.ToString() : "\"" + d.Symbol + "\""));

    private static string F(double value) => value.ToString(CultureInfo.InvariantCulture);
}
