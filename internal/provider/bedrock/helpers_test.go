package bedrock

import (
	"errors"

	"github.com/aigateway/aigateway/internal/gwerr"
)

func asGW(err error) *gwerr.Error {
	var ge *gwerr.Error
	if errors.As(err, &ge) {
		return ge
	}
	return nil
}
