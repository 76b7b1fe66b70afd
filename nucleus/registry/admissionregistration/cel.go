package admissionregistration

import (
	admissionregistrationv1 "k8s.io/api/admissionregistration/v1"
	"k8s.io/apimachinery/pkg/util/validation/field"
	plugincel "k8s.io/apiserver/pkg/admission/plugin/cel"
	"k8s.io/apiserver/pkg/admission/plugin/policy/validating"
	apiservercel "k8s.io/apiserver/pkg/cel"
	"k8s.io/apiserver/pkg/cel/environment"
)

// celEnv compiles the CEL expressions of one webhook or policy in the
// environment the admission plugins evaluate them in, so that expressions
// that could never run are refused when they are written.
type celEnv struct {
	compiler *plugincel.CompositedCompiler
	decls    plugincel.OptionalVariableDeclarations
}

// newCELEnv returns an environment declaring params when the policy has
// a paramKind and the patch types when it mutates. It records a failure to
// build one at fldPath and returns nil, which checks nothing.
func newCELEnv(hasParams, hasPatchTypes bool, fldPath *field.Path) (*celEnv, field.ErrorList) {
	compiler, err := plugincel.NewCompositedCompiler(environment.MustBaseEnvSet(environment.DefaultCompatibilityVersion()))
	if err != nil {
		return nil, field.ErrorList{field.InternalError(fldPath, err)}
	}
	return &celEnv{compiler: compiler, decls: plugincel.OptionalVariableDeclarations{
		HasParams: hasParams, HasAuthorizer: true, HasPatchTypes: hasPatchTypes,
	}}, nil
}

// addVariable compiles a policy variable and makes it available to the
// expressions compiled after it.
func (e *celEnv) addVariable(v *admissionregistrationv1.Variable, fldPath *field.Path) field.ErrorList {
	if e == nil {
		return nil
	}
	result := e.compiler.CompileAndStoreVariable(&validating.Variable{Name: v.Name, Expression: v.Expression}, e.decls, environment.NewExpressions)
	return celErrors(result.Error, v.Expression, fldPath)
}

// check compiles one expression.
func (e *celEnv) check(expr plugincel.ExpressionAccessor, fldPath *field.Path) field.ErrorList {
	if e == nil {
		return nil
	}
	result := e.compiler.CompileCELExpression(expr, e.decls, environment.NewExpressions)
	return celErrors(result.Error, expr.GetExpression(), fldPath)
}

// celErrors turns a compilation error into a field error, as upstream.
func celErrors(err *apiservercel.Error, expression string, fldPath *field.Path) field.ErrorList {
	if err == nil {
		return nil
	}
	switch err.Type {
	case apiservercel.ErrorTypeRequired:
		return field.ErrorList{field.Required(fldPath, err.Detail)}
	case apiservercel.ErrorTypeInvalid:
		return field.ErrorList{field.Invalid(fldPath, expression, err.Detail)}
	default:
		return field.ErrorList{field.InternalError(fldPath, err)}
	}
}
