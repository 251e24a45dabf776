using System.Collections.Generic;
using System.Collections.Immutable;
using System.Linq;
using System.Text.RegularExpressions;
using System.Threading;
using Dsl.Generator.Diagnostics;
using Dsl.Generator.Model;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.CSharp.Syntax;
using Microsoft.CodeAnalysis.Operations;

namespace Dsl.Generator.Parse;

/// <summary>
/// First stage: reads a <c>[Network]</c> class with its semantic model into a <see cref="NetworkSource"/>.
/// This is the only place that sees symbols and syntax; everything it returns is a plain value.
/// It resolves every name (which calls are catalogue layers, which are blocks, which are bindings) and
/// binds every argument to its parameter, defaults included, so later stages need no compiler.
/// </summary>
internal static class NetworkParser
{
    private const string DslNamespace = "Dsl";
    private const string LayersType = "Dsl.Layers";
    private const string DimType = "Dsl.Dim";

    /// <summary>
    /// Reads the class, or returns null for a second part that repeats <c>[Network]</c>: the attribute's first
    /// declaration speaks for the class, so its code is emitted once (and the compiler reports the duplicate attribute).
    /// </summary>
    public static NetworkSource? Parse(GeneratorAttributeSyntaxContext context, CancellationToken cancellationToken)
    {
        var type = (INamedTypeSymbol)context.TargetSymbol;
        var declaration = (TypeDeclarationSyntax)context.TargetNode;
        if (!IsFirstAttributedPart(type, declaration))
        {
            return null;
        }
        var location = LocationInfo.From(declaration.Identifier.GetLocation());
        var diagnostics = new List<DiagnosticInfo>();
        string? ns = type.ContainingNamespace.IsGlobalNamespace ? null : type.ContainingNamespace.ToDisplayString();
        string accessibility = type.DeclaredAccessibility == Accessibility.Public ? "public" : "internal";
        var parts = type.DeclaringSyntaxReferences
            .Select(r => r.GetSyntax(cancellationToken))
            .OfType<TypeDeclarationSyntax>()
            .ToList();

        bool canEmit = true;
        if (type.IsRecord)
        {
            diagnostics.Add(DiagnosticInfo.Create(Descriptors.UnsupportedClass, location, type.Name,
                "is a record; the generator adds mutable buffers and a constructor of its own, so declare a 'partial class'"));
            canEmit = false;
        }
        bool isPartial = parts.All(c => c.Modifiers.Any(SyntaxKind.PartialKeyword));
        if (!isPartial)
        {
            diagnostics.Add(DiagnosticInfo.Create(Descriptors.NotPartial, location, type.Name));
            canEmit = false;
        }
        if (type.ContainingType is not null)
        {
            diagnostics.Add(DiagnosticInfo.Create(Descriptors.UnsupportedClass, location, type.Name, "is nested in another type; declare it at namespace level"));
            canEmit = false;
        }
        if (type.IsGenericType)
        {
            diagnostics.Add(DiagnosticInfo.Create(Descriptors.UnsupportedClass, location, type.Name, "is generic; a network's shapes are fixed at compile time"));
            canEmit = false;
        }
        if (type.IsStatic || type.IsAbstract)
        {
            diagnostics.Add(DiagnosticInfo.Create(Descriptors.UnsupportedClass, location, type.Name, "is static or abstract; the generator adds a constructor and instance methods"));
            canEmit = false;
        }
        if (type.BaseType is { } baseType
            && !(baseType.Name == "Module" && baseType.ContainingNamespace.ToDisplayString() == DslNamespace)
            && !type.IsRecord
            && (baseType.SpecialType != SpecialType.System_Object || DeclaresBaseClass(parts, context.SemanticModel.Compilation, cancellationToken)))
        {
            diagnostics.Add(DiagnosticInfo.Create(Descriptors.UnsupportedClass, location, type.Name,
                $"derives from '{baseType.ToDisplayString()}'; the generator makes it derive from Dsl.Module, so declare no base class"));
            canEmit = false;
        }

        var blocks = new List<BlockSource>();
        foreach (var method in type.GetMembers().OfType<IMethodSymbol>())
        {
            cancellationToken.ThrowIfCancellationRequested();
            if (!method.IsStatic || method.MethodKind != MethodKind.Ordinary || !IsDslType(method.ReturnType, out bool returnsNet))
            {
                continue;
            }
            var syntax = method.DeclaringSyntaxReferences.Select(r => r.GetSyntax(cancellationToken)).OfType<MethodDeclarationSyntax>().FirstOrDefault();
            if (syntax is null)
            {
                continue;
            }
            var model = context.SemanticModel.SyntaxTree == syntax.SyntaxTree
                ? context.SemanticModel
                : context.SemanticModel.Compilation.GetSemanticModel(syntax.SyntaxTree);
            blocks.Add(new BlockReader(model, type, method, cancellationToken).Read(syntax, returnsNet));
        }

        diagnostics.AddRange(DefineShape(type, location, cancellationToken));

        // A primary constructor makes every other constructor chain to it, so the generated (Device, int) one
        // could not call base(device, seed).
        foreach (var part in parts)
        {
            if (part.ParameterList is { } primary && !type.IsRecord)
            {
                diagnostics.Add(DiagnosticInfo.Create(Descriptors.PrimaryConstructor, LocationInfo.From(primary), type.Name));
                canEmit = false;
            }
        }

        string fullName = ns is null ? type.Name : ns + "." + type.Name;
        var module = context.SemanticModel.Compilation.GetTypeByMetadataName(DslNamespace + ".Module");
        return new NetworkSource(ns, type.Name, accessibility, EquatableArray.From(blocks), EquatableArray.From(diagnostics), canEmit, location,
            fullName, Members(type, declaredOnly: true, cancellationToken), module is null ? EquatableArray<UserMember>.Empty : Members(module, declaredOnly: false, cancellationToken));
    }

    /// <summary>
    /// The definition must be exactly one <c>static Net Define()</c>: none at all is DSL0002; a <c>Define</c> that is an
    /// instance method, takes parameters or returns something else is DSL0030 at that method (the generator would
    /// otherwise skip it and report a missing definition); a second <c>Define</c> overload is DSL0031 at each extra one.
    /// </summary>
    private static IEnumerable<DiagnosticInfo> DefineShape(INamedTypeSymbol type, LocationInfo location, CancellationToken cancellationToken)
    {
        var defines = type.GetMembers("Define").OfType<IMethodSymbol>().Where(m => m.MethodKind == MethodKind.Ordinary).ToList();
        if (defines.Count == 0)
        {
            yield return DiagnosticInfo.Create(Descriptors.NoDefinition, location, type.Name);
            yield break;
        }
        bool IsDefinition(IMethodSymbol m) => m.IsStatic && m.Parameters.Length == 0 && IsDslType(m.ReturnType, out bool net) && net;
        LocationInfo At(IMethodSymbol m)
            => m.DeclaringSyntaxReferences.FirstOrDefault()?.GetSyntax(cancellationToken) is MethodDeclarationSyntax syntax
                ? LocationInfo.From(syntax.Identifier.GetLocation())
                : location;
        if (defines.Count > 1)
        {
            // Keep the one that is a definition (or the first declared) and point at the others.
            var kept = defines.FirstOrDefault(IsDefinition) ?? defines[0];
            foreach (var extra in defines.Where(m => !SymbolEqualityComparer.Default.Equals(m, kept)))
            {
                yield return DiagnosticInfo.Create(Descriptors.DefineOverloaded, At(extra), type.Name, "Define(" + string.Join(", ", extra.Parameters.Select(q => q.Type.ToDisplayString(SymbolDisplayFormat.MinimallyQualifiedFormat) + " " + q.Name)) + ")");
            }
            if (IsDefinition(kept))
            {
                yield break;
            }
        }
        var define = defines.FirstOrDefault(IsDefinition) ?? defines[0];
        if (!IsDefinition(define))
        {
            string why = !define.IsStatic ? "is an instance method; the definition is read at compile time, never called on an object: make it static"
                : define.Parameters.Length > 0 ? $"takes {define.Parameters.Length} parameter(s); a network's definition takes none (make the parameterised method a block with another name and call it from Define)"
                : $"returns '{define.ReturnType.ToDisplayString()}'; it must return Net (a block returning Layer needs another name)";
            yield return DiagnosticInfo.Create(Descriptors.DefineSignature, At(define), type.Name, why);
        }
    }

    /// <summary>True when a part names a class in its base list (even <c>object</c>, which the generated part's Module contradicts).</summary>
    private static bool DeclaresBaseClass(List<TypeDeclarationSyntax> parts, Compilation compilation, CancellationToken cancellationToken)
    {
        foreach (var part in parts)
        {
            if (part.BaseList is { } list)
            {
                var model = compilation.GetSemanticModel(part.SyntaxTree);
                if (list.Types.Any(t => model.GetTypeInfo(t.Type, cancellationToken).Type is { TypeKind: TypeKind.Class }))
                {
                    return true;
                }
            }
        }
        return false;
    }

    private static bool IsFirstAttributedPart(INamedTypeSymbol type, TypeDeclarationSyntax declaration)
    {
        var first = type.GetAttributes()
            .FirstOrDefault(a => a.AttributeClass?.ToDisplayString() == "Dsl.NetworkAttribute")?.ApplicationSyntaxReference;
        return first is null || first.SyntaxTree == declaration.SyntaxTree && declaration.Span.Contains(first.Span);
    }

    /// <summary>
    /// The members the user declared (in any part) as plain values, for the clash check against the generated ones; or,
    /// for <c>Dsl.Module</c> (<paramref name="declaredOnly"/> false), the non-private members a network inherits from it.
    /// </summary>
    private static EquatableArray<UserMember> Members(INamedTypeSymbol type, bool declaredOnly, CancellationToken cancellationToken)
    {
        var members = new List<UserMember>();
        foreach (var member in type.GetMembers())
        {
            cancellationToken.ThrowIfCancellationRequested();
            var at = member.Locations.FirstOrDefault(l => l.IsInSource);
            if (member.IsImplicitlyDeclared || (declaredOnly ? at is null : member.DeclaredAccessibility == Accessibility.Private))
            {
                continue;
            }
            MemberKind? kind = member switch
            {
                IFieldSymbol => MemberKind.Field,
                IPropertySymbol { IsIndexer: false } => MemberKind.Property,
                IEventSymbol => MemberKind.Event,
                IMethodSymbol { MethodKind: MethodKind.Ordinary } => MemberKind.Method,
                IMethodSymbol { MethodKind: MethodKind.Constructor } => MemberKind.Constructor,
                INamedTypeSymbol => MemberKind.Type,
                _ => null, // indexers, operators, destructors, static constructors: the generator declares none
            };
            if (kind is null || !declaredOnly && kind == MemberKind.Constructor) // constructors are not inherited
            {
                continue;
            }
            var parameters = member is IMethodSymbol method
                ? method.Parameters.Select(p => RefPrefix(p.RefKind) + p.Type.ToDisplayString(SymbolDisplayFormat.FullyQualifiedFormat))
                : Enumerable.Empty<string>();
            members.Add(new UserMember(member.Name, kind.Value, EquatableArray.From(parameters),
                declaredOnly ? LocationInfo.From(at!) : new LocationInfo("", default, default)));
        }
        return EquatableArray.From(members);
    }

    private static string RefPrefix(RefKind kind) => kind switch
    {
        RefKind.Ref => "ref ",
        RefKind.Out => "out ",
        RefKind.In => "in ",
        _ => "",
    };

    /// <summary>False for a half-typed <c>Block(int, int)</c> or a repeated name: arguments cannot be bound to such parameters.</summary>
    private static bool HasNamedParameters(IMethodSymbol method)
        => method.Parameters.All(p => p.Name.Length > 0) && method.Parameters.Select(p => p.Name).Distinct().Count() == method.Parameters.Length;

    internal static bool IsDslType(ITypeSymbol type, out bool isNet)
    {
        isNet = false;
        if (type.ContainingNamespace?.ToDisplayString() != DslNamespace)
        {
            return false;
        }
        isNet = type.Name == "Net";
        return isNet || type.Name == "Layer";
    }

    internal static ParamType ParameterType(ITypeSymbol type)
    {
        if (IsDslType(type, out bool isNet))
        {
            return isNet ? ParamType.Net : ParamType.Layer;
        }
        return type.SpecialType switch
        {
            SpecialType.System_Int32 or SpecialType.System_Int64 or SpecialType.System_Int16 or SpecialType.System_Byte => ParamType.Int,
            SpecialType.System_Single or SpecialType.System_Double => ParamType.Number,
            SpecialType.System_Boolean => ParamType.Bool,
            SpecialType.System_String => ParamType.String,
            _ => ParamType.Unsupported,
        };
    }

    /// <summary>Source text on one line, for messages and generated comments.</summary>
    internal static string OneLine(SyntaxNode node) => Regex.Replace(node.ToString(), @"\s+", " ").Trim();

    /// <summary>Reads one method body: <c>var</c> bindings, then a result.</summary>
    private sealed class BlockReader
    {
        private readonly SemanticModel _model;
        private readonly INamedTypeSymbol _network;
        private readonly IMethodSymbol _method;
        private readonly CancellationToken _cancellationToken;

        public BlockReader(SemanticModel model, INamedTypeSymbol network, IMethodSymbol method, CancellationToken cancellationToken)
        {
            _model = model;
            _network = network;
            _method = method;
            _cancellationToken = cancellationToken;
        }

        public BlockSource Read(MethodDeclarationSyntax syntax, bool returnsNet)
        {
            var parameters = _method.Parameters
                .Select((p, i) => new BlockParameter(p.Name.Length > 0 ? p.Name : "#" + i, ParameterType(p.Type), p.Type.ToDisplayString()))
                .ToImmutableArray();
            var bindings = new List<Binding>();
            DslExpr? result = null;
            var location = LocationInfo.From(syntax.Identifier.GetLocation());
            if (!HasNamedParameters(_method))
            {
                // Half-typed parameters ('Block(int, int)') or a repeated name: the compiler already reports the
                // parameter list, and the body cannot be bound to names, so the block expands to nothing more to say.
                return new BlockSource(_method.Name, returnsNet, new EquatableArray<BlockParameter>(parameters), EquatableArray<Binding>.Empty,
                    new InvalidExpr(syntax.Identifier.ValueText, null, location), location);
            }

            if (syntax.ExpressionBody is { } arrow)
            {
                result = Expr(arrow.Expression);
            }
            else if (syntax.Body is { } body)
            {
                foreach (var statement in body.Statements)
                {
                    _cancellationToken.ThrowIfCancellationRequested();
                    if (result is null && statement is LocalDeclarationStatementSyntax local
                        && local.Declaration.Variables.Count == 1
                        && local.Declaration.Variables[0].Initializer is { } init)
                    {
                        var v = local.Declaration.Variables[0];
                        bindings.Add(new Binding(v.Identifier.ValueText, Expr(init.Value), LocationInfo.From(v.Identifier.GetLocation())));
                    }
                    else if (result is null && statement is ReturnStatementSyntax { Expression: { } returned })
                    {
                        result = Expr(returned);
                    }
                    else
                    {
                        var at = LocationInfo.From(statement);
                        result = new InvalidExpr(OneLine(statement), DiagnosticInfo.Create(Descriptors.UnsupportedSyntax, at,
                            $"Only 'var' bindings followed by one 'return' may appear in '{_method.Name}', not '{OneLine(statement)}'"), at);
                        break;
                    }
                }
            }
            // A body without a result is already a C# error (CS0161); say nothing more.
            result ??= new InvalidExpr(syntax.Identifier.ValueText, null, location);
            return new BlockSource(_method.Name, returnsNet, new EquatableArray<BlockParameter>(parameters), EquatableArray.From(bindings), result, location);
        }

        private DslExpr Expr(ExpressionSyntax syntax)
        {
            _cancellationToken.ThrowIfCancellationRequested();
            var location = LocationInfo.From(syntax);
            switch (syntax)
            {
                case ParenthesizedExpressionSyntax p:
                    return Expr(p.Expression);
                case BinaryExpressionSyntax b when b.IsKind(SyntaxKind.BitwiseOrExpression):
                    return new PipeExpr(Expr(b.Left), Expr(b.Right), location);
                case BinaryExpressionSyntax b when b.IsKind(SyntaxKind.AddExpression) && !IsNumber(b.Left) && !IsNumber(b.Right):
                    return new AddExpr(Expr(b.Left), Expr(b.Right), location);
                case BinaryExpressionSyntax b when b.IsKind(SyntaxKind.MultiplyExpression) && !IsNumber(b.Left) && !IsNumber(b.Right):
                    return new MulExpr(Expr(b.Left), Expr(b.Right), location);
                case BinaryExpressionSyntax b when ElementwiseSymbol(b) is { } symbol:
                    return new ElementwiseExpr(symbol, Operand(b.Left), Operand(b.Right), location);
                case InvocationExpressionSyntax call:
                    return Call(call, location);
                case IdentifierNameSyntax or MemberAccessExpressionSyntax:
                    return Name(syntax, location);
                default:
                    return new InvalidExpr(OneLine(syntax), DiagnosticInfo.Create(Descriptors.UnsupportedSyntax, location,
                        $"'{OneLine(syntax)}' is not part of the network language: use layers, blocks, '|', '+', '-', '*', '/' and 'var' bindings"), location);
            }
        }

        // ---- tensor operations (issue 8): '-' and '/' on values, and a number on either side of + - * /.

        /// <summary>The operator of a value's <c>+ - * /</c> that is not a plain Net + Net or Net * Net, or null.</summary>
        private string? ElementwiseSymbol(BinaryExpressionSyntax b)
            => !IsNumber(b.Left) || !IsNumber(b.Right)
                ? b.Kind() switch
                {
                    SyntaxKind.AddExpression => "+",
                    SyntaxKind.SubtractExpression => "-",
                    SyntaxKind.MultiplyExpression => "*",
                    SyntaxKind.DivideExpression => "/",
                    _ => null,
                }
                : null;

        /// <summary>True when the expression is a C# number (a scalar operand of an element-wise operation), not a Net.</summary>
        private bool IsNumber(ExpressionSyntax syntax)
            => _model.GetTypeInfo(syntax, _cancellationToken).Type?.SpecialType is SpecialType.System_Double or SpecialType.System_Single
                or SpecialType.System_Int32 or SpecialType.System_Int64;

        /// <summary>
        /// An operand of an element-wise operation: a Net expression, or a number as a constant leaf or arithmetic over
        /// constants and the block's parameters (<c>Math.Sqrt(d)</c> included), folded at expansion.
        /// </summary>
        private DslExpr Operand(ExpressionSyntax syntax)
        {
            if (!IsNumber(syntax))
            {
                return Expr(syntax);
            }
            var location = LocationInfo.From(syntax);
            return _model.GetOperation(syntax, _cancellationToken) is { } operation && Arithmetic(operation) is { } arithmetic
                ? arithmetic
                : new InvalidExpr(OneLine(syntax), DiagnosticInfo.Create(Descriptors.UnsupportedSyntax, location,
                    $"'{OneLine(syntax)}' must be a compile-time number: constants, the block's parameters, + - * / and Math.Sqrt"), location);
        }

        private DslExpr Name(ExpressionSyntax syntax, LocationInfo location)
        {
            var symbol = _model.GetSymbolInfo(syntax, _cancellationToken).Symbol;
            switch (symbol)
            {
                case IPropertySymbol property when property.ContainingType.ToDisplayString() == LayersType:
                    return new LayerCallExpr(property.Name, OneLine(syntax), EquatableArray<ArgValue>.Empty, location);
                case ILocalSymbol local:
                    return new RefExpr(local.Name, location);
                case IParameterSymbol parameter:
                    return new RefExpr(parameter.Name, location);
                case null:
                    return new InvalidExpr(OneLine(syntax), null, location);
                default:
                    return new InvalidExpr(OneLine(syntax), Unknown(symbol.Name, location), location);
            }
        }

        private DslExpr Call(InvocationExpressionSyntax call, LocationInfo location)
        {
            var info = _model.GetSymbolInfo(call, _cancellationToken);
            var method = info.Symbol as IMethodSymbol
                ?? info.CandidateSymbols.OfType<IMethodSymbol>().FirstOrDefault();
            string source = OneLine(call);
            if (method is null)
            {
                return new InvalidExpr(source, null, location);
            }
            bool isCatalogue = method.ContainingType.ToDisplayString() == LayersType;
            bool isBlock = !isCatalogue && method.IsStatic
                && SymbolEqualityComparer.Default.Equals(method.ContainingType, _network)
                && IsDslType(method.ReturnType, out _);
            if (!isCatalogue && !isBlock)
            {
                return new InvalidExpr(source, Unknown(method.Name, location), location);
            }
            if (isBlock && !HasNamedParameters(method))
            {
                return new InvalidExpr(source, null, location); // the compiler reports the block's parameter list
            }

            var operation = _model.GetOperation(call, _cancellationToken) as IInvocationOperation;
            if (operation is null || info.Symbol is null)
            {
                if (isBlock)
                {
                    // The call does not bind (wrong arity or types): keep what was written so the
                    // expander can say what the block expects and what it got.
                    var written = call.ArgumentList.Arguments
                        .Select((a, i) => new ArgValue(a.NameColon?.Name.Identifier.ValueText ?? "#" + i, ArgKind.NotConstant, 0, 0, OneLine(a.Expression),
                            EquatableArray<int>.Empty, null, EquatableArray<DslExpr>.Empty, true, LocationInfo.From(a)))
                        .ToImmutableArray();
                    return new BlockCallExpr(method.Name, source, new EquatableArray<ArgValue>(written), location);
                }
                return new InvalidExpr(source, null, location);
            }

            var args = operation.Arguments
                .Where(a => a.Parameter is not null)
                .Select(a => Argument(a, location))
                .ToImmutableArray();
            return isCatalogue
                ? new LayerCallExpr(method.Name, source, new EquatableArray<ArgValue>(args), location, IsDslType(method.ReturnType, out bool net) && net)
                : new BlockCallExpr(method.Name, source, new EquatableArray<ArgValue>(args), location);
        }

        private ArgValue Argument(IArgumentOperation argument, LocationInfo callLocation)
        {
            string name = argument.Parameter!.Name;
            bool isExplicit = argument.ArgumentKind == ArgumentKind.Explicit;
            var location = isExplicit || argument.ArgumentKind == ArgumentKind.ParamArray && argument.Syntax is not InvocationExpressionSyntax
                ? LocationInfo.From(argument.Syntax)
                : callLocation;
            var value = argument.Value;
            string text = argument.Syntax is ArgumentSyntax a ? OneLine(a.Expression) : OneLine(argument.Syntax);

            ArgValue Make(ArgKind kind, long i = 0, double d = 0, string? s = null, EquatableArray<int> ints = default, DslExpr? e = null, EquatableArray<DslExpr> list = default)
                => new(name, kind, i, d, s, ints, e, list, isExplicit, location);

            var paramType = ParameterType(argument.Parameter.Type);
            // Only an argument the user wrote holds an expression: an omitted one (mask: null by default) can carry the
            // syntax of an enclosing argument (a call nested in another's arguments), and reading it again recursed forever.
            if (paramType is ParamType.Net or ParamType.Layer && isExplicit && argument.Syntax is ArgumentSyntax netArg)
            {
                return Make(ArgKind.Expression, s: text, e: Expr(netArg.Expression));
            }
            if (argument.ArgumentKind == ArgumentKind.ParamArray
                && argument.Parameter.Type is IArrayTypeSymbol { ElementType: var elementType } && ParameterType(elementType) is ParamType.Layer or ParamType.Net)
            {
                var items = value is IArrayCreationOperation { Initializer: { } layers }
                    ? layers.ElementValues.Select(v => v.Syntax is ExpressionSyntax es ? Expr(es) : new InvalidExpr(OneLine(v.Syntax), null, LocationInfo.From(v.Syntax)))
                    : Enumerable.Empty<DslExpr>();
                return Make(ArgKind.ExpressionList, s: text, list: EquatableArray.From(items));
            }
            if (argument.ArgumentKind == ArgumentKind.ParamArray)
            {
                if (value is IArrayCreationOperation { Initializer: { } dimInit }
                    && argument.Parameter.Type is IArrayTypeSymbol { ElementType: var dimType } && dimType.ToDisplayString() == DimType)
                {
                    // Dim elements arrive as user-defined conversions of an int or a string constant.
                    var sizes = new List<int>();
                    var symbols = new List<string>();
                    // An element may be arithmetic over the block's parameters (View(q, -1, heads, d / heads)): each element
                    // then has an expression (a constant leaf for the others), folded at expansion.
                    var sizeExprs = new List<DslExpr?>();
                    foreach (var element in dimInit.ElementValues)
                    {
                        var operand = element;
                        while (operand is IConversionOperation conversion && !operand.ConstantValue.HasValue)
                        {
                            operand = conversion.Operand;
                        }
                        switch (operand.ConstantValue)
                        {
                            case { HasValue: true, Value: int v }:
                                sizes.Add(v);
                                symbols.Add("");
                                sizeExprs.Add(null);
                                break;
                            case { HasValue: true, Value: string symbol }:
                                sizes.Add(0);
                                symbols.Add(symbol);
                                sizeExprs.Add(null);
                                break;
                            default:
                                if (Arithmetic(operand) is not { } sizeExpr)
                                {
                                    return Make(ArgKind.NotConstant, s: OneLine(element.Syntax));
                                }
                                sizes.Add(0);
                                symbols.Add("");
                                sizeExprs.Add(sizeExpr);
                                break;
                        }
                    }
                    var dimArray = Make(ArgKind.DimArray, s: text, ints: EquatableArray.From(sizes)) with { Symbols = EquatableArray.From(symbols) };
                    return sizeExprs.All(e => e is null) ? dimArray : dimArray with
                    {
                        Expressions = EquatableArray.From(sizeExprs.Select((e, k) => e ?? new ConstantExpr(Leaf(ArgKind.Int, sizes[k], 0, location), location))),
                    };
                }
                if (value is IArrayCreationOperation { Initializer: { } init })
                {
                    var ints = new List<int>();
                    foreach (var element in init.ElementValues)
                    {
                        if (element.ConstantValue is { HasValue: true, Value: int v })
                        {
                            ints.Add(v);
                        }
                        else
                        {
                            return Make(ArgKind.NotConstant, s: OneLine(element.Syntax));
                        }
                    }
                    return Make(ArgKind.IntArray, s: string.Join(", ", ints), ints: EquatableArray.From(ints));
                }
                return Make(ArgKind.NotConstant, s: text);
            }
            if (argument.ArgumentKind == ArgumentKind.DefaultValue && argument.Parameter.HasExplicitDefaultValue && argument.Parameter.ExplicitDefaultValue is null)
            {
                return Make(ArgKind.Null, s: "null");
            }
            var constant = value.ConstantValue;
            var unwrapped = value;
            while (!constant.HasValue && unwrapped is IConversionOperation inner)
            {
                unwrapped = inner.Operand;
                constant = unwrapped.ConstantValue;
            }
            if (constant.HasValue)
            {
                return constant.Value switch
                {
                    null => Make(ArgKind.Null, s: "null"),
                    bool b => Make(ArgKind.Bool, i: b ? 1 : 0),
                    string str => Make(ArgKind.String, s: str),
                    int v => Make(ArgKind.Int, i: v),
                    long v => Make(ArgKind.Int, i: v),
                    short v => Make(ArgKind.Int, i: v),
                    byte v => Make(ArgKind.Int, i: v),
                    float v => Make(ArgKind.Number, d: v),
                    double v => Make(ArgKind.Number, d: v),
                    var other => Make(ArgKind.NotConstant, s: other.ToString()),
                };
            }
            while (value is IConversionOperation conversion)
            {
                value = conversion.Operand;
            }
            if (value is ITupleOperation tuple)
            {
                // A (height, width) pair given to a Size2 parameter (kernel: (1, 7)): constant integers only.
                var pair = new List<int>();
                foreach (var element in tuple.Elements)
                {
                    var item = element;
                    var itemConstant = item.ConstantValue;
                    while (!itemConstant.HasValue && item is IConversionOperation itemConversion)
                    {
                        item = itemConversion.Operand;
                        itemConstant = item.ConstantValue;
                    }
                    if (itemConstant is not { HasValue: true, Value: int v })
                    {
                        return Make(ArgKind.NotConstant, s: text);
                    }
                    pair.Add(v);
                }
                return Make(ArgKind.IntArray, s: "(" + string.Join(", ", pair) + ")", ints: EquatableArray.From(pair));
            }
            if (value is IParameterReferenceOperation p && SymbolEqualityComparer.Default.Equals(p.Parameter.ContainingSymbol, _method))
            {
                return Make(ArgKind.ParameterRef, s: p.Parameter.Name);
            }
            if (value is IBinaryOperation or IUnaryOperation && Arithmetic(value) is { } arithmetic)
            {
                return Make(ArgKind.Arithmetic, s: text, e: arithmetic);
            }
            return Make(ArgKind.NotConstant, s: text);
        }

        /// <summary>Arithmetic over constants and this block's parameters, or null when a leaf is anything else.</summary>
        private DslExpr? Arithmetic(IOperation operation)
        {
            var location = LocationInfo.From(operation.Syntax);
            if (operation.ConstantValue is { HasValue: true, Value: var v })
            {
                return v switch
                {
                    int i => new ConstantExpr(Leaf(ArgKind.Int, i, 0, location), location),
                    long l => new ConstantExpr(Leaf(ArgKind.Int, l, 0, location), location),
                    float f => new ConstantExpr(Leaf(ArgKind.Number, 0, f, location), location),
                    double d => new ConstantExpr(Leaf(ArgKind.Number, 0, d, location), location),
                    // A string leaf: a block names its layers from a parameter (name: prefix + ".q").
                    string str => new ConstantExpr(Leaf(ArgKind.String, 0, 0, location) with { Text = str }, location),
                    _ => null,
                };
            }
            switch (operation)
            {
                case IConversionOperation conversion:
                    return Arithmetic(conversion.Operand);
                case IParenthesizedOperation parenthesized:
                    return Arithmetic(parenthesized.Operand);
                case IParameterReferenceOperation p when SymbolEqualityComparer.Default.Equals(p.Parameter.ContainingSymbol, _method):
                    return new RefExpr(p.Parameter.Name, location);
                case IInvocationOperation { TargetMethod: { Name: "Sqrt", ContainingType: var math } } sqrt
                    when math.ToDisplayString() == "System.Math" && sqrt.Arguments.Length == 1:
                    return Arithmetic(sqrt.Arguments[0].Value) is { } root ? new ArithmeticExpr("sqrt", null, root, location) : null;
                case IUnaryOperation { OperatorKind: UnaryOperatorKind.Minus } negate:
                    return Arithmetic(negate.Operand) is { } operand ? new ArithmeticExpr("-", null, operand, location) : null;
                case IBinaryOperation binary:
                    string? op = binary.OperatorKind switch
                    {
                        BinaryOperatorKind.Add => "+",
                        BinaryOperatorKind.Subtract => "-",
                        BinaryOperatorKind.Multiply => "*",
                        BinaryOperatorKind.Divide => "/",
                        BinaryOperatorKind.Remainder => "%",
                        _ => null,
                    };
                    var left = Arithmetic(binary.LeftOperand);
                    var right = Arithmetic(binary.RightOperand);
                    return op is null || left is null || right is null ? null : new ArithmeticExpr(op, left, right, location);
                default:
                    return null;
            }
        }

        private static ArgValue Leaf(ArgKind kind, long i, double d, LocationInfo location)
            => new("", kind, i, d, null, EquatableArray<int>.Empty, null, EquatableArray<DslExpr>.Empty, true, location);

        private DiagnosticInfo Unknown(string name, LocationInfo location)
            => DiagnosticInfo.Create(Descriptors.UnknownLayer, location, name, _network.Name);
    }
}
