using Microsoft.CodeAnalysis;

namespace Dsl.Generator.Diagnostics;

/// <summary>
/// Every diagnostic the generator reports. Ids: DSL0xxx language use, DSL1xxx shapes, DSL2xxx configuration.
/// Each is listed in AnalyzerReleases.Unshipped.md.
/// </summary>
internal static class Descriptors
{
    private const string Language = "Dsl.Language";
    private const string Shapes = "Dsl.Shapes";
    private const string Configuration = "Dsl.Configuration";
    /// <summary>
    /// The published documentation's address, from the MSBuild property <c>DslDocsUrl</c> (Directory.Build.props, by default
    /// the package's <c>PackageProjectUrl</c> + <c>/docs/diagnostics</c>), compiled into this assembly as an
    /// <c>AssemblyMetadata</c> attribute: one place, never a path inside the repository. Each help link is this address,
    /// <c>#</c>, and the lower-case id (the heading of Diagnostics.md that explains it).
    /// </summary>
    internal static readonly string HelpBase = DocsUrl() + "#";

    private static string DocsUrl()
    {
        foreach (var attribute in typeof(Descriptors).Assembly.GetCustomAttributes(typeof(System.Reflection.AssemblyMetadataAttribute), false))
        {
            if (attribute is System.Reflection.AssemblyMetadataAttribute { Key: "DslDocsUrl", Value: { Length: > 0 } url })
            {
                return url.TrimEnd('#');
            }
        }
        // Only a build that bypasses Directory.Build.props gets here (the generator never throws, not even in a type
        // initializer): the links are then relative, which DescriptorTests refuses.
        return "";
    }

    public static readonly DiagnosticDescriptor NotPartial = Error("DSL0001", Language,
        "Network class must be partial",
        "[Network] class '{0}' must be declared partial so the generator can add Forward, Backward and Summary");

    public static readonly DiagnosticDescriptor NoDefinition = Error("DSL0002", Language,
        "No network definition",
        "[Network] class '{0}' has no definition: add 'static Net Define() => Input(...) | ...;'");

    public static readonly DiagnosticDescriptor NotConstant = Error("DSL0003", Language,
        "Shape-deciding argument is not a compile-time constant",
        "{0}: argument '{1}' decides a shape and must be a compile-time constant (a literal, a const or a block parameter), but '{2}' is not");

    public static readonly DiagnosticDescriptor UnknownLayer = Error("DSL0004", Language,
        "Unknown layer",
        "'{0}' is not a layer of Dsl.Layers nor a block of '{1}'; a block is a static method returning Layer or Net, of the network class or of a static class");

    public static readonly DiagnosticDescriptor UnsupportedSyntax = Error("DSL0005", Language,
        "Unsupported construct in a network definition",
        "{0}");

    public static readonly DiagnosticDescriptor BlockArguments = Error("DSL0006", Language,
        "Block called with the wrong arguments",
        "Block '{0}' expects ({1}) but is called with ({2})");

    public static readonly DiagnosticDescriptor BlockRecursion = Error("DSL0007", Language,
        "Recursive block",
        "Block '{0}' calls itself (through {1}); blocks are expanded at compile time and cannot recurse");

    public static readonly DiagnosticDescriptor InternalError = Error("DSL0999", Language,
        "The network generator failed",
        "The network generator failed on '{0}' ({1}); this is a bug in Dsl.Generator, please report it with the definition");

    public static readonly DiagnosticDescriptor ShapeMismatch = Error("DSL1001", Shapes,
        "Shape mismatch",
        "{0} expects {1} but receives {2} from {3}");

    public static readonly DiagnosticDescriptor InvalidArgument = Error("DSL1002", Shapes,
        "Invalid layer argument",
        "{0}: {1}");

    public static readonly DiagnosticDescriptor AddMismatch = Error("DSL1003", Shapes,
        "Operands of + differ in shape",
        "'+' needs operands of the same shape but receives {0} from {1} and {2} from {3}");

    public static readonly DiagnosticDescriptor DuplicateName = Error("DSL1004", Shapes,
        "Duplicate layer name",
        "Layer name '{0}' is already used by {1}; parameter names must be unique");

    public static readonly DiagnosticDescriptor InputMisuse = Error("DSL1005", Shapes,
        "Input misuse",
        "{0}");

    public static readonly DiagnosticDescriptor KernelTooLarge = Error("DSL1006", Shapes,
        "Window larger than its padded input",
        "{0}: the {1} window does not fit the padded input {2} ({3} from {4})");

    public static readonly DiagnosticDescriptor ResidualShape = Error("DSL1007", Shapes,
        "Residual branch changes the shape",
        "{0}: the body maps {1} to {2} but the shortcut carries {3}; {4}");

    public static readonly DiagnosticDescriptor ConcatMismatch = Error("DSL1008", Shapes,
        "Concatenated branches disagree",
        "{0}: branches must agree on every dimension but channels, but receive {1}");

    public static readonly DiagnosticDescriptor GroupsMismatch = Error("DSL1009", Shapes,
        "Groups do not divide the channels",
        "{0}: groups={1} must divide both the {2} input channels and the {3} output channels");

    public static readonly DiagnosticDescriptor UnsupportedClass = Error("DSL2001", Configuration,
        "Unsupported network class",
        "[Network] class '{0}' {1}");

    public static readonly DiagnosticDescriptor MemberClash = Error("DSL0020", Language,
        "Member clashes with a generated member",
        "{0} clashes with the generated {1} of '{2}'; rename or remove it, the generator declares it in every [Network] class");

    public static readonly DiagnosticDescriptor PrimaryConstructor = Error("DSL0021", Language,
        "Network class with a primary constructor",
        "[Network] class '{0}' has a primary constructor; the generated constructor (Device device, int seed = 0) must call base(device, seed), so remove the parameter list");

    public static readonly DiagnosticDescriptor HidesModuleMember = Error("DSL0022", Language,
        "Member hides a member of Dsl.Module",
        "{0} hides the {1} that '{2}' inherits from Dsl.Module, which the generated code uses; rename it");

    public static DiagnosticDescriptor? Find(string id) => id switch
    {
        "DSL0001" => NotPartial,
        "DSL0002" => NoDefinition,
        "DSL0003" => NotConstant,
        "DSL0004" => UnknownLayer,
        "DSL0005" => UnsupportedSyntax,
        "DSL0006" => BlockArguments,
        "DSL0007" => BlockRecursion,
        "DSL0999" => InternalError,
        "DSL1001" => ShapeMismatch,
        "DSL1002" => InvalidArgument,
        "DSL1003" => AddMismatch,
        "DSL1004" => DuplicateName,
        "DSL1005" => InputMisuse,
        "DSL1006" => KernelTooLarge,
        "DSL1007" => ResidualShape,
        "DSL1008" => ConcatMismatch,
        "DSL1009" => GroupsMismatch,
        "DSL2001" => UnsupportedClass,
        "DSL0010" => EmptyName,
        "DSL0011" => SeveralValues,
        "DSL1010" => ShapeOverflow,
        "DSL1011" => NotFinite,
        "DSL0020" => MemberClash,
        "DSL0021" => PrimaryConstructor,
        "DSL0022" => HidesModuleMember,
        "DSL0012" => InvalidSymbol,
        "DSL0013" => SymbolLocalClash,
        "DSL0014" => OutputsMisuse,
        "DSL1012" => SymbolicShape,
        "DSL1013" => SymbolicSize,
        "DSL1014" => TypedInputUse,
        "DSL0030" => DefineSignature,
        "DSL0040" => SharedBlockInReference,
        "DSL0041" => NotABlock,
        "DSL0042" => LoopBudget,
        "DSL0043" => ControlNotConstant,
        "DSL0044" => UnsupportedStatement,
        "DSL0045" => InIteration,
        "DSL0046" => SharedBlockFails,
        "DSL0031" => DefineOverloaded,
        "DSL1050" => LinearOnLastDimension,
        "DSL1080" => PoolPadding,
        "DSL1081" => BlockName,
        "DSL1015" => TokensExpected,
        "DSL1016" => ElementwiseMismatch,
        "DSL1017" => ConcatDimMismatch,
        "DSL1018" => MaskMismatch,
        "DSL1030" => RecurrentWidth,
        "DSL1031" => NotASequence,
        "DSL1032" => RecurrentArgument,
        "DSL1033" => UnknownNonlinearity,
        "DSL1034" => LastWithoutRecurrent,
        "DSL1035" => InitialStateShape,
        "DSL1040" => AttentionWidth,
        "DSL1041" => AttentionLength,
        "DSL1042" => AttentionMask,
        "DSL1043" => AttentionRank,
        "DSL1060" => MatMulInner,
        "DSL1061" => MatMulBatch,
        "DSL1062" => BroadcastMismatch,
        "DSL1063" => ViewCount,
        "DSL1064" => DimOutOfRange,
        "DSL1065" => SqueezeNotOne,
        "DSL1066" => NotAPermutation,
        "DSL1067" => MaskedFillMask,
        "DSL1068" => SliceRange,
        "DSL1069" => UnevenSplit,
        "DSL1070" => HeadsDivide,
        "DSL1071" => TransformerInput,
        "DSL1072" => MemoryWidth,
        "DSL1073" => KeyPaddingMismatch,
        "DSL1074" => CausalLengths,
        _ => null,
    };

    public static readonly DiagnosticDescriptor EmptyName = Error("DSL0010", Language,
        "Empty layer name",
        "{0}: name: \"\" is empty; give the layer a non-empty name or leave 'name' out for the default (fc1, conv1, ...)");

    public static readonly DiagnosticDescriptor SeveralValues = Error("DSL0011", Language,
        "A value with several parts used as one",
        "{0} produces {1} values: pick one with Select(index)");

    public static readonly DiagnosticDescriptor ShapeOverflow = Error("DSL1010", Shapes,
        "Size too large for a tensor",
        "{0}: {1} exceeds the largest size a tensor holds (2,147,483,647 elements per sample)");

    public static readonly DiagnosticDescriptor NotFinite = Error("DSL1011", Shapes,
        "Argument is not a finite number",
        "{0}: argument '{1}' must be a finite float32 number (magnitude below 3.4e38), but is {2}");

    public static readonly DiagnosticDescriptor InvalidSymbol = Error("DSL0012", Language,
        "Invalid dimension",
        "{0}: {1} is not a dimension: give a positive size or a symbol, a letter then letters or digits (at most 16) other than N, the batch");

    public static readonly DiagnosticDescriptor SymbolLocalClash = Error("DSL0013", Language,
        "Input name clashes with a symbol's local",
        "{0}: the input name '{1}' is the local that holds symbol {2} in the generated Forward; rename the input");

    public static readonly DiagnosticDescriptor OutputsMisuse = Error("DSL0014", Language,
        "Outputs used outside Define's result",
        "{0}: {1}");

    public static readonly DiagnosticDescriptor SymbolicShape = Error("DSL1012", Shapes,
        "Layer needs fixed sizes but receives a symbolic dimension",
        "{0} needs fixed sizes but receives {1} from {2}: {3} is only bound when Forward runs");

    public static readonly DiagnosticDescriptor SymbolicSize = Error("DSL1013", Shapes,
        "Size the layer fixes is a symbol",
        "{0} needs a fixed {1} but receives {2} from {3}, where it is {4}, only bound when Forward runs");

    public static readonly DiagnosticDescriptor TypedInputUse = Error("DSL1014", Shapes,
        "Layer applied to a token or mask input",
        "{0} receives {1}, {2}: only Embedding takes token ids, and a mask goes to a layer's mask: argument (MaxOverTime(mask: m)); feed other layers float32 values");

    public static readonly DiagnosticDescriptor TokensExpected = Error("DSL1015", Shapes,
        "Embedding fed a value that is not token ids",
        "{0} takes int64 token ids from Tokens(...) but receives {1}, {2}, from {3}");

    public static readonly DiagnosticDescriptor ElementwiseMismatch = Error("DSL1016", Shapes,
        "Operands of an elementwise product differ in shape",
        "'{0}' needs operands of the same shape but receives {1} from {2} and {3} from {4}");

    public static readonly DiagnosticDescriptor ConcatDimMismatch = Error("DSL1017", Shapes,
        "Concatenated values disagree",
        "{0}: the values must agree on every dimension but {1} (symbols exactly), but receive {2} from {3} and {4} from {5}");

    public static readonly DiagnosticDescriptor MaskMismatch = Error("DSL1018", Shapes,
        "Mask does not fit the value",
        "{0}: the mask must be a Mask(...) input [N,{1}] matching the value's batch and length ({2} from {3}), but receives {4}, {5}, from {6}");

    // ------------------------------------------------------------------ shared blocks, loops and conditionals (DSL0040-DSL0049)

    public static readonly DiagnosticDescriptor SharedBlockInReference = Error("DSL0040", Language,
        "Block declared in a referenced assembly",
        "'{0}' is declared in the referenced assembly '{1}'; blocks are expanded from their source at compile time, so declare it in a static class of this project (or include its source file)");

    public static readonly DiagnosticDescriptor NotABlock = Error("DSL0041", Language,
        "Method cannot be a block",
        "'{0}' cannot be a block: it {1}; a block is a static, non-generic method returning Layer or Net, of the network class or of a static class");

    public static readonly DiagnosticDescriptor LoopBudget = Error("DSL0042", Language,
        "Loop does not end at compile time",
        "'{0}' in '{1}' does not end within {2} iterations; a block's loops are unrolled at compile time");

    public static readonly DiagnosticDescriptor ControlNotConstant = Error("DSL0043", Language,
        "Loop bound or condition is not a compile-time constant",
        "{0} '{1}' in '{2}' is not a compile-time constant: {3}; use literals, consts, the block's int, bool and int[] parameters, loop variables, static readonly int[] fields, and arithmetic or comparisons on them");

    public static readonly DiagnosticDescriptor UnsupportedStatement = Error("DSL0044", Language,
        "Statement outside the block language",
        "{0} '{1}' in '{2}' is not part of the block language: a block body declares and assigns Net or Layer values, runs for and foreach loops and if/else over compile-time constants, and returns");

    public static readonly DiagnosticDescriptor InIteration = Error("DSL0045", Language,
        "Error inside an unrolled loop",
        "The {0} above happens in iteration {1} of '{2}' in '{3}'");

    public static readonly DiagnosticDescriptor SharedBlockFails = Error("DSL0046", Language,
        "Shared block fails in this network",
        "'{0}' called here from '{1}' fails: {2}");

    public static readonly DiagnosticDescriptor DefineSignature = Error("DSL0030", Language,
        "Define is not 'static Net Define()'",
        "'{0}.Define' {1}");

    public static readonly DiagnosticDescriptor DefineOverloaded = Error("DSL0031", Language,
        "Define is overloaded",
        "'{0}' declares more than one Define: '{1}' is another overload; a network has exactly one 'static Net Define()' (give blocks other names)");

    public static readonly DiagnosticDescriptor LinearOnLastDimension = Warning("DSL1050", Shapes,
        "Linear acts on the last dimension of a sample with several",
        "{0} receives {1} and acts on its last dimension only, giving {2}, but the network ends in a classifier: insert Flatten before it if you meant {3} -> [N,{5}], or state the in-features (Linear({4}, {5})) if per-position is meant");
    public static readonly DiagnosticDescriptor RecurrentWidth = Error("DSL1030", Shapes,
        "Recurrent width does not match the next layer",
        "{0} expects {1} but receives {2} from {3}: {4}");

    public static readonly DiagnosticDescriptor NotASequence = Error("DSL1031", Shapes,
        "Sequence layer applied to a value that is not [N,T,D]",
        "{0} runs over a sequence [N,T,D] but receives {1} from {2}");

    public static readonly DiagnosticDescriptor RecurrentArgument = Error("DSL1032", Shapes,
        "Invalid recurrent layer argument",
        "{0}: {1}");

    public static readonly DiagnosticDescriptor UnknownNonlinearity = Error("DSL1033", Shapes,
        "Unknown RNN nonlinearity",
        "{0}: nonlinearity must be \"tanh\" or \"relu\" (as nn.RNN), got {1}");

    public static readonly DiagnosticDescriptor LastWithoutRecurrent = Error("DSL1034", Shapes,
        "Last applied to a value that is not a recurrent layer's",
        "{0} takes the last state of the recurrent layer it follows (Rnn, Lstm, Gru) but receives {1} from {2}");

    public static readonly DiagnosticDescriptor InitialStateShape = Error("DSL1035", Shapes,
        "Initial state of the wrong shape",
        "{0}: {1} must be {2} but receives {3} from {4}");

    public static readonly DiagnosticDescriptor AttentionWidth = Error("DSL1040", Shapes,
        "Attention query and keys differ in width",
        "{0}: the query {1} from {2} and the keys {3} from {4} differ in width ({5} and {6}); a score is the dot product of a query and a key");

    public static readonly DiagnosticDescriptor AttentionLength = Error("DSL1041", Shapes,
        "Attention keys and values differ in length",
        "{0}: the keys {1} from {2} and the values {3} from {4} differ in length ({5} and {6}); each key needs one value");

    public static readonly DiagnosticDescriptor AttentionMask = Error("DSL1042", Shapes,
        "Attention mask does not match the keys",
        "{0}: the mask {1} from {2} should be {3}, one entry per key of {4} from {5}");

    public static readonly DiagnosticDescriptor AttentionRank = Error("DSL1043", Shapes,
        "Attention operand of the wrong rank",
        "{0}: the {1} should be {2} but receives {3} from {4}");

    // Transfer learning and PyTorch's layer options (DSL1080-1089).

    public static readonly DiagnosticDescriptor PoolPadding = Error("DSL1080", Shapes,
        "Pooling padding more than half the window",
        "{0}: the padding {1} along {2} is more than half the window {3}; PyTorch's pooling takes at most half, so every window keeps a real value");

    public static readonly DiagnosticDescriptor BlockName = Error("DSL1081", Shapes,
        "Invalid block name",
        "{0}: the block name \"{1}\" must be one or more identifiers joined by dots (\"trunk\", \"encoder.stem\"); it prefixes the parameter names");
    // ---- tensor operations on values (issue 8): DSL1060-1069

    public static readonly DiagnosticDescriptor MatMulInner = Error("DSL1060", Shapes,
        "MatMul inner dimensions differ",
        "{0}: {1} from {2} and {3} from {4} cannot be multiplied: the first has {5} columns but the second {6} rows; torch.matmul multiplies [...,M,K] by [...,K,P]");

    public static readonly DiagnosticDescriptor MatMulBatch = Error("DSL1061", Shapes,
        "MatMul batch dimensions do not broadcast",
        "{0}: the batch dimensions of {1} from {2} and {3} from {4} do not broadcast: {5}; compared from the right, each pair must be equal, one of them 1, or missing");

    public static readonly DiagnosticDescriptor BroadcastMismatch = Error("DSL1062", Shapes,
        "Element-wise operands do not broadcast",
        "'{0}' cannot broadcast {1} from {2} and {3} from {4}: {5}; compared from the right, each pair of per-sample sizes must be equal (symbols exactly), one of them 1, or missing");

    public static readonly DiagnosticDescriptor ViewCount = Error("DSL1063", Shapes,
        "View changes the element count",
        "{0}: {1} from {2} cannot be viewed as {3}: {4}");

    public static readonly DiagnosticDescriptor DimOutOfRange = Error("DSL1064", Shapes,
        "Dimension out of range",
        "{0}: dim {1} is out of range for {2} from {3}: expected {4}");

    public static readonly DiagnosticDescriptor SqueezeNotOne = Error("DSL1065", Shapes,
        "Squeezed dimension is not 1",
        "{0}: dimension {1} of {2} from {3} has size {4}; only a dimension of size 1 can be removed");

    public static readonly DiagnosticDescriptor NotAPermutation = Error("DSL1066", Shapes,
        "Permute dims are not a permutation",
        "{0}: ({1}) is not a permutation of the {2} dimensions of {3} from {4}: expected each of 0..{5} once, the batch (0) first");

    public static readonly DiagnosticDescriptor MaskedFillMask = Error("DSL1067", Shapes,
        "Mask does not match the filled value",
        "{0}: the mask {1} from {2} does not broadcast to {3} from {4}: {5}; the mask's per-sample sizes, compared from the right, must be the value's (symbols exactly), 1, or missing");

    public static readonly DiagnosticDescriptor SliceRange = Error("DSL1068", Shapes,
        "Slice outside its dimension",
        "{0}: positions {1} to {2} do not lie in dimension {3} of {4} from {5}: expected 0 <= start < end <= {6}");

    public static readonly DiagnosticDescriptor UnevenSplit = Error("DSL1069", Shapes,
        "Split into unequal parts",
        "{0}: {1} cannot split dim {2} of {3} from {4} into equal parts (its size is {5}): expected {6}; a smaller last part is not supported");
    // ------------------------------------------------------------------ the Transformer's built-in layers (DSL1070-DSL1079)

    public static readonly DiagnosticDescriptor HeadsDivide = Error("DSL1070", Shapes,
        "Model width not divisible by the heads",
        "{0} expects a width divisible by its {4} heads but receives {1} from {2} (width {3}); each head takes d/heads features");

    public static readonly DiagnosticDescriptor TransformerInput = Error("DSL1071", Shapes,
        "Transformer layer operand of the wrong shape",
        "{0}: the {1} should be {2} but receives {3} from {4}");

    public static readonly DiagnosticDescriptor MemoryWidth = Error("DSL1072", Shapes,
        "Attention memory of the wrong width",
        "{0}: the memory {1} from {2} should have the input's width {3} (the input is {4} from {5}); its keys and values are projected by the same in_proj_weight");

    public static readonly DiagnosticDescriptor KeyPaddingMismatch = Error("DSL1073", Shapes,
        "Key-padding mask does not match the keys",
        "{0}: the mask given to {1}, {2} from {3}, should be {4}, one entry per key of {5} from {6}");

    public static readonly DiagnosticDescriptor CausalLengths = Error("DSL1074", Shapes,
        "Causal attention over keys of another length",
        "{0}: causal: true masks key s for query t when s > t, which needs the keys to run over the queries' positions, but the keys {1} from {2} have length {4} and the queries {3}");

    private static DiagnosticDescriptor Error(string id, string category, string title, string message)
        => new(id, title, message, category, DiagnosticSeverity.Error, isEnabledByDefault: true, helpLinkUri: HelpBase + id.ToLowerInvariant());

    private static DiagnosticDescriptor Warning(string id, string category, string title, string message)
        => new(id, title, message, category, DiagnosticSeverity.Warning, isEnabledByDefault: true, helpLinkUri: HelpBase + id.ToLowerInvariant());
}
